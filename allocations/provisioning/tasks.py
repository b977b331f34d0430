"""Celery tasks of provisioning: thin wrappers that re-read rows by id and call the services."""

from celery import shared_task

from allocations.catalogue.models import Site

from .services import backend_kind, pull_usage, read_site_state, reconcile_site, sweep_unsynced, sync_allocation


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300,
             retry_jitter=True, max_retries=12, soft_time_limit=240, time_limit=300)
def provision_allocation(self, allocation_id: int) -> str:
    return sync_allocation(allocation_id=allocation_id)


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def slurm_sweep_unsynced() -> int:
    """Re-queue allocations still marked for provisioning (e.g. the broker was down at commit)."""
    return sweep_unsynced()


@shared_task(acks_late=True, time_limit=900, soft_time_limit=840)
def slurm_reconcile_all() -> dict:
    """Periodic full reconcile per site: detects and fixes drift, recorded as attempts; then the read the
    operator's site page shows."""
    outcomes = {}
    for site in Site.objects.filter(is_active=True):
        outcomes[site.code] = reconcile_site(site=site).outcome
        if backend_kind(site) != "handover":
            read_site_state(site=site)
    return outcomes


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def slurm_pull_usage() -> dict:
    """Periodic usage pull (sshare GrpTRESRaw) for every active site."""
    return {site.code: pull_usage(site=site) for site in Site.objects.filter(is_active=True)}


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=5,
             time_limit=900, soft_time_limit=840)
def slurm_reconcile_site(self, site_id: int) -> str:
    return reconcile_site(site=Site.objects.get(pk=site_id)).outcome


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def slurm_read_site(site_id: int) -> str:
    """Read one site's Slurm for the operator's site page (asked for with "Refresh now")."""
    return read_site_state(site=Site.objects.get(pk=site_id)).status
