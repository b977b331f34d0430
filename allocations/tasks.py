"""Celery tasks: thin wrappers that re-read rows by id and call services."""

from celery import shared_task


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300,
             retry_jitter=True, max_retries=12, soft_time_limit=240, time_limit=300)
def provision_allocation(self, allocation_id: int) -> str:
    from .services.provisioning import sync_allocation

    return sync_allocation(allocation_id=allocation_id)
