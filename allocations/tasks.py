"""Celery tasks: thin wrappers that re-read rows by id and call services."""

from celery import shared_task


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300,
             retry_jitter=True, max_retries=12, soft_time_limit=240, time_limit=300)
def provision_allocation(self, allocation_id: int) -> str:
    from .services.provisioning import sync_allocation

    return sync_allocation(allocation_id=allocation_id)


@shared_task(acks_late=True, time_limit=120)
def slurm_sweep_unsynced() -> int:
    """Re-queue allocations still marked for provisioning (e.g. the broker was down at commit)."""
    from .services.provisioning import sweep_unsynced

    return sweep_unsynced()


@shared_task(acks_late=True, time_limit=900, soft_time_limit=840)
def slurm_reconcile_all() -> dict:
    """Periodic full reconcile per site: detects and fixes drift, recorded as attempts."""
    from .models import Site
    from .services.provisioning import reconcile_site

    return {site.code: reconcile_site(site=site).outcome for site in Site.objects.filter(is_active=True)}
