"""Celery beat task of the terms of use: a thin wrapper over the service."""

from celery import shared_task

from .services import terms_resync_due as resync_due


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def terms_resync_due() -> int:
    """Allocations affected by a version that came into force or whose grace period ended: provisioned again."""
    return resync_due()
