"""Sites, access modes, calls and published capacity."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from allocations.catalogue.models import AccessMode, Call, Site, SiteCapacity, quarter_start


def ensure_reference_data() -> None:
    """Transactional tests flush the tables, data-migration rows included: put sites and modes back."""
    if not AccessMode.objects.exists():
        import importlib

        from django.apps import apps

        importlib.import_module("allocations.migrations.0002_reference_data").load(apps, None)
        importlib.import_module("allocations.migrations.0010_access_mode_final_report").set_final_report_rules(
            apps, None)


def site(code: str = "zellik") -> Site:
    return Site.objects.get(code=code)


def mode(code: str = "fast_lane") -> AccessMode:
    return AccessMode.objects.get(code=code)


def start_soon() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=14)


def quarters(count: int = 5, start: datetime.date | None = None) -> list[datetime.date]:
    day = quarter_start(start or timezone.localdate())
    out = []
    for _ in range(count):
        out.append(day)
        month = day.month + 3
        day = datetime.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return out


def publish_capacity(gpu_hours: int = 400_000, cpu_core_hours: int = 4_000_000,
                     storage_tb: Decimal = Decimal("500")) -> list[SiteCapacity]:
    """Capacity on every site for this quarter and the five after it (a 12-month allocation starting
    soon spans up to six quarters, and reserves in each)."""
    rows = []
    for each in Site.objects.all():
        for period in quarters(6):
            row, _ = SiteCapacity.objects.update_or_create(
                site=each, period_start=period,
                defaults={"gpu_hours": gpu_hours, "cpu_core_hours": cpu_core_hours, "storage_tb": storage_tb})
            rows.append(row)
    return rows


def set_capacity(*, site_code: str = "zellik", period: datetime.date | None = None, gpu_hours: int = 400_000,
                 cpu_core_hours: int = 4_000_000, storage_tb: Decimal = Decimal("500")) -> SiteCapacity:
    """One site's capacity for one quarter, with nothing committed yet; the five quarters after it get
    ample capacity unless some is published (an allocation reserves in every quarter it spans)."""
    period = quarter_start(period or start_soon())
    row, _ = SiteCapacity.objects.update_or_create(
        site=site(site_code), period_start=period,
        defaults={"gpu_hours": gpu_hours, "cpu_core_hours": cpu_core_hours, "storage_tb": storage_tb,
                  "committed_gpu_hours": 0, "committed_cpu_core_hours": 0, "committed_storage_tb": 0})
    for later in quarters(6, period)[1:]:
        SiteCapacity.objects.get_or_create(site=row.site, period_start=later,
                                           defaults={"gpu_hours": 10_000_000, "cpu_core_hours": 100_000_000,
                                                     "storage_tb": 10_000})
    return row


def committed(site_code: str = "zellik") -> tuple[int, int]:
    """GPU-hours and CPU core-hours committed on a site, over every quarter."""
    rows = SiteCapacity.objects.filter(site__code=site_code)
    return (sum(r.committed_gpu_hours for r in rows), sum(r.committed_cpu_core_hours for r in rows))


def ensure_capacity(start: datetime.date, gpu_hours: int = 1_000_000, cpu_hours: int = 10_000_000) -> None:
    """Capacity on every site for the quarter of `start` and the five after it (an allocation reserves in
    every quarter it spans), unless some is published already."""
    for each in Site.objects.all():
        for period in quarters(6, start):
            SiteCapacity.objects.get_or_create(site=each, period_start=period,
                                               defaults={"gpu_hours": gpu_hours, "cpu_core_hours": cpu_hours,
                                                         "storage_tb": 1000})


def open_call(access_mode: AccessMode | None = None, **overrides) -> Call:
    now = timezone.now()
    values = {"access_mode": access_mode or mode("large_scale"), "title": "Large Scale cut-off",
              "opens_at": now - datetime.timedelta(days=10), "cutoff_at": now + datetime.timedelta(days=20)}
    values.update(overrides)
    return Call.objects.create(**values)
