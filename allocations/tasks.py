"""Celery tasks: thin wrappers that re-read rows by id and call services."""

from celery import shared_task


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300,
             retry_jitter=True, max_retries=12, soft_time_limit=240, time_limit=300)
def provision_allocation(self, allocation_id: int) -> str:
    from .services.provisioning import sync_allocation

    return sync_allocation(allocation_id=allocation_id)


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
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


# --- beat: the allocation lifecycle and deadlines (thin wrappers over the services) -----------------

@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def allocations_start_due() -> int:
    """approved -> provisioning for allocations whose start date came (and conditions are acknowledged)."""
    return _sweep("start", "allocation_start_if_due")


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def allocations_expire_due() -> int:
    """active / suspended -> expired once the end date is reached, through the same transition service."""
    return _sweep("expire", "allocation_expire_if_due")


def _sweep(which: str, service_name: str) -> int:
    import logging

    from django.utils import timezone

    from .models import Allocation, AllocationStatus
    from .services import lifecycle

    today = timezone.localdate()
    service = getattr(lifecycle, service_name)
    if which == "start":
        due = Allocation.objects.filter(status=AllocationStatus.APPROVED, start_date__lte=today)
    else:
        due = Allocation.objects.filter(status__in=[AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED],
                                        end_date__lte=today)
    moved = 0
    for allocation_id in due.values_list("pk", flat=True):
        allocation = Allocation.objects.get(pk=allocation_id)
        try:
            after = service(allocation=allocation, today=today)
        except Exception:  # one bad row must not stop the sweep; the next run retries it
            logging.getLogger(__name__).exception("%s sweep failed for allocation %s", which, allocation_id)
            continue
        moved += after.status != allocation.status
    return moved


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def deadline_reminders() -> dict:
    from .services.reminders import deadline_reminders_send

    return deadline_reminders_send()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def slurm_pull_usage() -> dict:
    """Periodic usage pull (sshare GrpTRESRaw) for every active site."""
    from .models import Site
    from .services.usage import pull_usage

    return {site.code: pull_usage(site=site) for site in Site.objects.filter(is_active=True)}


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=5,
             time_limit=900, soft_time_limit=840)
def slurm_reconcile_site(self, site_id: int) -> str:
    from .models import Site
    from .services.provisioning import reconcile_site

    return reconcile_site(site=Site.objects.get(pk=site_id)).outcome
