"""Reads of the operator's provisioning views (HTML and API): sync state per site, drift, hand-overs.

Callers check the operator role first; nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, QuerySet, Subquery

from allocations.catalogue.models import Site
from allocations.grants.models import Allocation, SyncState
from allocations.provisioning.models import HandoverTask, RecordedChange, SyncAttempt, SyncAttemptKind, SyncOutcome
from allocations.provisioning.services import backend_for, backend_kind, site_desired
from allocations.provisioning.slurm.errors import SlurmError


def sites_for_operators() -> QuerySet[Site]:
    """Every site, with the id of its last full reconcile (one query, whatever the number of attempts)."""
    last_full = (SyncAttempt.objects.filter(site=OuterRef("pk"), kind=SyncAttemptKind.FULL_RECONCILE)
                 .order_by("-started_at", "-pk").values("pk")[:1])
    return Site.objects.annotate(last_full_id=Subquery(last_full)).order_by("name", "pk")


@dataclass
class SiteSync:
    site: Site
    backend: str
    states: dict[str, int]
    last_full: SyncAttempt | None

    @property
    def counts(self) -> dict[str, int]:
        """Allocations per sync state, every state present."""
        return {state: self.states.get(state, 0) for state in SyncState.values}


def site_sync(sites: Iterable[Site]) -> list[SiteSync]:
    """Sync counts and the last full reconcile of sites from `sites_for_operators` (two queries)."""
    sites = list(sites)
    states: dict[int, dict[str, int]] = {}
    for site_id, state, n in (Allocation.objects.filter(quotas__site__in=sites)
                              .values_list("quotas__site_id", "sync_state").annotate(n=Count("pk", distinct=True))
                              .order_by()):
        states.setdefault(site_id, {})[state] = n
    attempts = SyncAttempt.objects.defer("commands").in_bulk([s.last_full_id for s in sites if s.last_full_id])
    return [SiteSync(site=s, backend=backend_kind(s), states=states.get(s.pk, {}),
                     last_full=attempts.get(s.last_full_id)) for s in sites]


@dataclass
class DriftRow:
    """One compared setting of one account, as text. `actual` is None when Slurm lacks the account;
    an empty string is a setting that is not set (or an empty list)."""

    account: str
    field: str
    desired: str
    actual: str | None
    differs: bool


@dataclass
class SiteDrift:
    site: Site
    backend: str
    readable: bool  # False for hand-over sites: the portal cannot read them
    error: str = ""
    changes: list[str] = field(default_factory=list)  # what a reconcile would change
    rows: list[DriftRow] = field(default_factory=list)

    @property
    def in_sync(self) -> bool | None:
        if not self.readable or self.error:
            return None
        return not self.changes


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(f"{item[0]}={item[1]}" if isinstance(item, tuple) else str(item) for item in value)
    return str(value)


def site_drift(site: Site) -> SiteDrift:
    """Desired against actual for one site: one read of the cluster, compared by the planner itself
    (the same desired state, read and comparison as a full reconcile)."""
    kind = backend_kind(site)
    if kind == "handover":
        return SiteDrift(site=site, backend=kind, readable=False)
    try:
        changes, fields = backend_for(site).compare(site.slurm_cluster, site_desired(site))
    except SlurmError as exc:
        return SiteDrift(site=site, backend=kind, readable=True, error=str(exc))
    rows = [DriftRow(account=f.account, field=f.field, desired=as_text(f.desired),
                     actual=as_text(f.actual) if f.present else None, differs=f.differs)
            for f in fields]
    return SiteDrift(site=site, backend=kind, readable=True, changes=[c.describe() for c in changes], rows=rows)


def recorded_changes(site: Site) -> QuerySet[RecordedChange]:
    return RecordedChange.objects.filter(site=site)[:30]


def recent_errors() -> QuerySet[SyncAttempt]:
    return SyncAttempt.objects.filter(outcome=SyncOutcome.ERROR).select_related("site", "allocation")[:20]


def recent_attempts() -> QuerySet[SyncAttempt]:
    return SyncAttempt.objects.select_related("site", "allocation")[:30]


def open_handovers() -> QuerySet[HandoverTask]:
    return HandoverTask.objects.filter(done_at=None).select_related("site", "allocation").order_by("created_at", "pk")
