"""Celery beat task of final reports: a thin wrapper over the service."""

from celery import shared_task

from .services import final_report_reminders_send


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def final_report_reminders() -> dict:
    """Open the final reports owed and send the reminders due today (each once)."""
    return final_report_reminders_send()
