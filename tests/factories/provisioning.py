"""What provisioning leaves behind: sync attempts and usage snapshots."""

from __future__ import annotations

import datetime

from django.utils import timezone

from allocations.grants.models import Allocation, SyncState
from allocations.provisioning.models import HandoverTask, SyncAttempt, SyncAttemptKind, SyncOutcome, UsageSnapshot

from .catalogue import site


def usage_and_attempts(alloc: Allocation) -> None:
    """Two usage snapshots on Zellik, and a failed then a successful sync attempt."""
    zellik = site("zellik")
    for minutes in (600, 1200):
        UsageSnapshot.objects.create(allocation=alloc, site=zellik, gpu_minutes=minutes, cpu_minutes=minutes)
    SyncAttempt.objects.create(site=zellik, allocation=alloc, outcome=SyncOutcome.ERROR, error="timeout")
    SyncAttempt.objects.create(site=zellik, allocation=alloc, outcome=SyncOutcome.SUCCESS)


def sync_failure(alloc: Allocation, *, site_code: str = "zellik", error: str = "sacctmgr: connection refused"):
    """The allocation's last provisioning failed (its state and the failed attempt)."""
    Allocation.objects.filter(pk=alloc.pk).update(sync_state=SyncState.ERROR)
    return SyncAttempt.objects.create(site=site(site_code), allocation=alloc, outcome=SyncOutcome.ERROR,
                                      error=error, finished_at=timezone.now())


def full_reconcile(site_code: str = "zellik", *, drift: list[str] | None = None) -> SyncAttempt:
    """A full reconcile of the site that found these differences (none: the cluster matched)."""
    return SyncAttempt.objects.create(
        site=site(site_code), kind=SyncAttemptKind.FULL_RECONCILE, finished_at=timezone.now(),
        outcome=SyncOutcome.DRIFT_FIXED if drift else SyncOutcome.NOOP, drift=drift or [])


def handover(alloc: Allocation, *, site_code: str = "charleroi") -> HandoverTask:
    return HandoverTask.objects.create(site=site(site_code), allocation=alloc, changes=[{"op": "add_account"}],
                                       desired_version=alloc.desired_version)


def stale_attempt(alloc: Allocation, *, minutes: int = 120, site_code: str = "zellik") -> SyncAttempt:
    """An attempt still marked running, started `minutes` ago (its worker died)."""
    attempt = SyncAttempt.objects.create(site=site(site_code), allocation=alloc, outcome=SyncOutcome.RUNNING)
    SyncAttempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - datetime.timedelta(minutes=minutes))
    attempt.refresh_from_db()
    return attempt
