"""Celery tasks of the review: the working-day deadline reminders (beat)."""

from celery import shared_task

from .services import deadline_reminders_send


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def deadline_reminders() -> dict:
    return deadline_reminders_send()
