"""Reads of the operator's provisioning views (HTML and API): sync state per site, drift, hand-overs.

Callers check the operator role first; nothing here writes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.home import ITEMS_SHOWN, WorkList, waiting_item
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation, SyncState
from allocations.provisioning.models import (
    HandoverKind,
    HandoverTask,
    JobAction,
    ReadbackStatus,
    RecordedChange,
    SiteReadback,
    StorageProvision,
    SyncAttempt,
    SyncAttemptKind,
    SyncOutcome,
)
from allocations.provisioning.services import backend_kind
from portal.vocabulary import choice_label


def sites_for_operators() -> QuerySet[Site]:
    """Every site, with the id of its last full reconcile (one query, whatever the number of attempts)."""
    last_full = (SyncAttempt.objects.filter(site=OuterRef("pk"), kind=SyncAttemptKind.FULL_RECONCILE)
                 .order_by("-started_at", "-pk").values("pk")[:1])
    return (Site.objects.annotate(last_full_id=Subquery(last_full)).select_related("readback")
            .order_by("name", "pk"))


@dataclass
class SiteSync:
    site: Site
    backend: str
    states: dict[str, int]
    last_full: SyncAttempt | None

    @property
    def readback(self) -> SiteReadback | None:
        """The last stored read of the site (what its page shows), or None."""
        try:
            return self.site.readback
        except SiteReadback.DoesNotExist:
            return None

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
    """Desired against actual for one site, from the last stored read (``SiteReadback``)."""

    site: Site
    backend: str
    readable: bool  # False for hand-over sites: the portal cannot read them
    error: str = ""
    changes: list[str] = field(default_factory=list)  # what a reconcile would have changed at read_at
    rows: list[DriftRow] = field(default_factory=list)
    read_at: datetime.datetime | None = None
    duration_ms: int | None = None
    status: str = ""
    requested_at: datetime.datetime | None = None
    error_at: datetime.datetime | None = None

    @property
    def in_sync(self) -> bool | None:
        if not self.readable or self.read_at is None:
            return None
        return not self.changes

    @property
    def waiting(self) -> bool:
        """A read was asked for and no worker stored it yet."""
        return self.status == ReadbackStatus.QUEUED


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(f"{item[0]}={item[1]}" if isinstance(item, tuple) else str(item) for item in value)
    return str(value)


def site_drift(site: Site) -> SiteDrift:
    """Desired against actual for one site as the last read stored it (one query, no call to Slurm: the
    read runs as a task, ``services.read_site_state``, so a hung slurmdbd never holds a web request)."""
    kind = backend_kind(site)
    if kind == "handover":
        return SiteDrift(site=site, backend=kind, readable=False)
    readback = SiteReadback.objects.filter(site=site).first()
    if readback is None:
        return SiteDrift(site=site, backend=kind, readable=True)
    rows = [DriftRow(account=r["account"], field=r["field"], desired=r["desired"], actual=r["actual"],
                     differs=r["differs"]) for r in readback.rows]
    return SiteDrift(site=site, backend=kind, readable=True, error=readback.error, changes=list(readback.changes),
                     rows=rows, read_at=readback.read_at, duration_ms=readback.duration_ms, status=readback.status,
                     requested_at=readback.requested_at, error_at=readback.error_at)


def job_actions(*, site: Site | None = None, limit: int = 30) -> QuerySet[JobAction]:
    """The portal's latest actions on jobs (holds, releases, cancellations), newest first."""
    rows = JobAction.objects.select_related("site", "allocation").defer("commands")
    if site is not None:
        rows = rows.filter(site=site)
    return rows[:limit]


def recorded_changes(site: Site) -> QuerySet[RecordedChange]:
    return RecordedChange.objects.filter(site=site)[:30]


@dataclass
class ErrorGroup:
    """Failed attempts of one allocation (or one site's full reconcile) in a row: the retries of one
    provisioning, shown once with the newest error in full."""

    latest: SyncAttempt
    tries: int
    first_at: datetime.datetime


def recent_errors(*, scanned: int = 200, shown: int = 20) -> list[ErrorGroup]:
    """The newest failed attempts, grouped by allocation, site and kind (one query): a task retried
    twelve times is one row that says so, not twelve."""
    groups: dict[tuple, ErrorGroup] = {}
    for attempt in (SyncAttempt.objects.filter(outcome=SyncOutcome.ERROR).select_related("site", "allocation")
                    .defer("commands", "drift")[:scanned]):
        key = (attempt.site_id, attempt.allocation_id, attempt.kind)
        group = groups.get(key)
        if group is None:
            if len(groups) == shown:
                continue
            groups[key] = ErrorGroup(latest=attempt, tries=1, first_at=attempt.started_at)
        else:
            group.tries += 1
            group.first_at = attempt.started_at
    return list(groups.values())


def recent_attempts() -> QuerySet[SyncAttempt]:
    return SyncAttempt.objects.select_related("site", "allocation")[:30]


def site_storage(site: Site) -> list[StorageProvision]:
    """The storage of every allocation on ``site`` as the portal knows it, each with ``open_task`` (its open
    storage hand-over task, or None); two queries."""
    rows = list(StorageProvision.objects.filter(site=site).select_related("allocation")
                .order_by("allocation__slurm_account", "pk"))
    tasks = {task.allocation_id: task for task in HandoverTask.objects.filter(
        site=site, kind=HandoverKind.STORAGE, done_at=None, superseded_at=None)}
    for row in rows:
        row.open_task = tasks.get(row.allocation_id)
    return rows


def open_handovers() -> QuerySet[HandoverTask]:
    """Tasks to apply: neither done nor replaced by a newer desired version."""
    return (HandoverTask.objects.filter(done_at=None, superseded_at=None).select_related("site", "allocation")
            .order_by("created_at", "pk"))


# ------------------------------------------------------------------------------------ staff home

# A sync attempt still running after this long lost its worker (the task's hard limit is ten minutes).
STALE_ATTEMPT_MINUTES = 30


def sync_errors() -> QuerySet[Allocation]:
    """Allocations whose last provisioning failed, each with the time of its last failed attempt."""
    last_error = (SyncAttempt.objects.filter(allocation=OuterRef("pk"), outcome=SyncOutcome.ERROR)
                  .order_by("-started_at", "-pk").values("started_at")[:1])
    return (Allocation.objects.filter(sync_state=SyncState.ERROR).select_related("organisation")
            .annotate(last_error_at=Subquery(last_error)).order_by(F("last_error_at").asc(nulls_last=True), "pk"))


def stale_attempts(*, now: datetime.datetime | None = None) -> QuerySet[SyncAttempt]:
    now = now or timezone.now()
    return (SyncAttempt.objects.filter(outcome=SyncOutcome.RUNNING,
                                       started_at__lt=now - datetime.timedelta(minutes=STALE_ATTEMPT_MINUTES))
            .defer("commands").select_related("site", "allocation").order_by("started_at", "pk"))


def sites_with_drift() -> list[tuple[Site, SyncAttempt]]:
    """Sites whose last full reconcile found the cluster differing from the portal (two queries)."""
    sites = list(sites_for_operators())
    attempts = SyncAttempt.objects.defer("commands").in_bulk([s.last_full_id for s in sites if s.last_full_id])
    return [(s, attempts[s.last_full_id]) for s in sites if s.last_full_id and attempts[s.last_full_id].drift]


def operator_work(user, today: datetime.date) -> list[WorkList]:
    """Provisioning that needs an operator: failures, drift, hand-overs, stalled attempts (eight queries).

    Nothing here has a deadline: each item shows how long it has waited."""
    errors, handovers, stale = sync_errors(), open_handovers(), stale_attempts()
    drift = sites_with_drift()
    overview = reverse("provisioning:overview")

    def since(moment) -> datetime.date | None:
        return timezone.localdate(moment) if moment else None

    return [
        WorkList(key="errors", label=_("Provisioning failures"), count=errors.count(), link=overview,
                 empty=_("No allocation failed to provision."),
                 items=[waiting_item(title=f"{a.reference} · {a.organisation.legal_name}",
                                     detail=str(a.get_sync_state_display()), since=since(a.last_error_at),
                                     today=today, link=overview)
                        for a in errors[:ITEMS_SHOWN]]),
        WorkList(key="drift", label=_("Sites where the cluster differed"), count=len(drift), link=overview,
                 empty=_("The last reconcile of every site found no difference."),
                 items=[waiting_item(title=site.name, detail=ngettext(
                     "%(n)s difference found by the last full reconcile",
                     "%(n)s differences found by the last full reconcile", len(attempt.drift)) % {
                     "n": len(attempt.drift)}, since=since(attempt.started_at), today=today,
                     link=reverse("provisioning:site_detail", args=[site.code]))
                     for site, attempt in drift[:ITEMS_SHOWN]]),
        WorkList(key="handovers", label=_("Hand-over tasks to do"), count=handovers.count(), link=overview,
                 empty=_("No hand-over task is open."),
                 items=[waiting_item(title=f"{t.allocation.reference} · {t.site.name}", since=since(t.created_at),
                                     today=today, link=f"{overview}#handover-{t.pk}")
                        for t in handovers[:ITEMS_SHOWN]]),
        WorkList(key="stale", label=_("Attempts that stopped answering"), count=stale.count(), link=overview,
                 empty=_("No attempt is stuck."),
                 items=[waiting_item(title=f"{a.allocation.reference} · {a.site.name}" if a.allocation
                                     else a.site.name,
                                     detail=str(choice_label(SyncAttemptKind, a.kind)),
                                     since=since(a.started_at), today=today, link=overview)
                        for a in stale[:ITEMS_SHOWN]]),
    ]
