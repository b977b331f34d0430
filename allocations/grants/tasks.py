"""Celery beat tasks of the allocation lifecycle: thin wrappers over the services."""

from celery import shared_task

from .services import allocations_expire_due_sweep, allocations_start_due_sweep


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def allocations_start_due() -> int:
    """approved -> provisioning for allocations whose start date came (and conditions are acknowledged)."""
    return allocations_start_due_sweep()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def allocations_expire_due() -> int:
    """active / suspended -> expired once the end date is reached, through the same transition service."""
    return allocations_expire_due_sweep()
