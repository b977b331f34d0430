from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from allocations.catalogue.models import (
    AccessMode,
    Call,
    Site,
    SiteCapacity,
    quarter_days,
    quarter_label,
    spread_pro_rata,
)

# --------------------------------------------------------------------------------- reference data


def active_access_modes() -> QuerySet[AccessMode]:
    return AccessMode.objects.filter(is_active=True).order_by("order", "name")


def active_sites() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("name"))


def calls_to_offer(current: Call | None = None) -> QuerySet[Call]:
    """Open calls, plus the application's own call even when it has closed (so it stays visible)."""
    now = timezone.now()
    condition = Q(opens_at__lte=now, cutoff_at__gt=now)
    if current is not None:
        condition |= Q(pk=current.pk)
    return Call.objects.filter(condition).select_related("access_mode").order_by("cutoff_at")


def capacities_over(start: datetime.date | None,
                    end: datetime.date | None) -> dict[int, list[tuple[str, SiteCapacity | None]]]:
    """Per site, each quarter from ``start`` to ``end`` (the quarter of today without a start; the start's quarter
    alone without an end) with its published capacity, None where none is: what an applicant reads beside the
    hours they ask (the submission checks every one of these quarters, see capacity_needs). One query."""
    start = start or timezone.localdate()
    periods = [period for period, _days in quarter_days(start, max(start, end or start))]
    caps = {(c.site_id, c.period_start): c for c in SiteCapacity.objects.filter(period_start__in=periods)}
    return {site_id: [(quarter_label(period), caps.get((site_id, period))) for period in periods]
            for site_id in {key[0] for key in caps}}


@dataclass(frozen=True)
class QuarterNeed:
    """What a grant would reserve on one site in one quarter, beside the quarter's published capacity."""

    site_id: int
    period_start: datetime.date
    gpu_hours: int
    cpu_core_hours: int
    capacity: SiteCapacity | None
    #: What the allocation being re-planned already holds in the quarter (a top-up): free to it again.
    held_gpu_hours: int = 0
    held_cpu_core_hours: int = 0

    @property
    def label(self) -> str:
        return quarter_label(self.period_start)

    @property
    def free_gpu_hours(self) -> int:
        return self.capacity.remaining_gpu_hours + self.held_gpu_hours if self.capacity else 0

    @property
    def free_cpu_core_hours(self) -> int:
        return self.capacity.remaining_cpu_core_hours + self.held_cpu_core_hours if self.capacity else 0

    @property
    def fits(self) -> bool:
        return (self.capacity is not None and self.gpu_hours <= self.free_gpu_hours
                and self.cpu_core_hours <= self.free_cpu_core_hours)


def capacity_needs(quotas: dict[int, tuple[int, int]], start: datetime.date,
                   end: datetime.date) -> list[QuarterNeed]:
    """GPU-hours and CPU core-hours per site that ``quotas`` (site id -> (GPU-hours, CPU core-hours)) would
    reserve in each quarter of [start, end], pro rata by days as approvals reserve them
    (grants.services.capacity_plan), each with the quarter's capacity (None: none published). Ordered by
    site, then quarter. One query.

    The applicant's check before submission and the manager's split per quarter at approval read it; the
    approval itself checks the same figures again under lock."""
    needs = []
    for site_id, (gpu, cpu) in sorted(quotas.items()):
        for (period, gpu_part), (_same, cpu_part) in zip(spread_pro_rata(int(gpu), start, end),
                                                         spread_pro_rata(int(cpu), start, end), strict=True):
            needs.append((site_id, period, gpu_part, cpu_part))
    if not needs:
        return []
    caps = {(c.site_id, c.period_start): c for c in SiteCapacity.objects.filter(
        site_id__in={n[0] for n in needs}, period_start__in={n[1] for n in needs})}
    return [QuarterNeed(site_id, period, gpu, cpu, caps.get((site_id, period))) for site_id, period, gpu, cpu in needs]
