from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from allocations.catalogue.models import AccessMode, Call, Site, SiteCapacity, quarter_start

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


def capacities_for(day: datetime.date | None) -> dict[int, SiteCapacity]:
    """Published capacity per site for the quarter that contains `day` (today when not given)."""
    period = quarter_start(day or timezone.localdate())
    return {c.site_id: c for c in SiteCapacity.objects.filter(period_start=period)}
