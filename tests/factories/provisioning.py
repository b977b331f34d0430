"""What provisioning leaves behind: sync attempts and usage snapshots."""

from __future__ import annotations

from allocations.grants.models import Allocation
from allocations.provisioning.models import SyncAttempt, SyncOutcome, UsageSnapshot

from .catalogue import site


def usage_and_attempts(alloc: Allocation) -> None:
    """Two usage snapshots on Zellik, and a failed then a successful sync attempt."""
    zellik = site("zellik")
    for minutes in (600, 1200):
        UsageSnapshot.objects.create(allocation=alloc, site=zellik, gpu_minutes=minutes, cpu_minutes=minutes)
    SyncAttempt.objects.create(site=zellik, allocation=alloc, outcome=SyncOutcome.ERROR, error="timeout")
    SyncAttempt.objects.create(site=zellik, allocation=alloc, outcome=SyncOutcome.SUCCESS)
