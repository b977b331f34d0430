"""Reads for the applicant's side of reviews and allocations, scoped to the user's organisations.

An object of another organisation does not exist for the user (404), whatever staff role they hold."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.home import ITEMS_SHOWN, WorkList, WorkTable, waiting_item
from accounts.selectors import member_organisation_ids
from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site, SiteCapacity, quarter_label, quarter_start
from allocations.catalogue.selectors import QuarterNeed, capacity_needs
from allocations.grants.models import (
    Allocation,
    AllocationQuota,
    CapacityReservation,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
)
from allocations.grants.services import Reserved, hours_to_spread, top_up_increments
from allocations.provisioning.models import StorageProvision, SyncAttempt, UsageSnapshot
from compliance.models import EthicsCondition
from portal.listquery import search, within_days


def allocations_of_member(user) -> QuerySet[Allocation]:
    return (Allocation.objects.filter(organisation_id__in=member_organisation_ids(user))
            .select_related("organisation", "application")
            .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site")))
            .order_by("-start_date", "-pk"))


def allocation_of_member(user, reference: str) -> Allocation:
    alloc = (Allocation.objects.filter(organisation_id__in=member_organisation_ids(user), reference=reference)
             .select_related("organisation", "application__access_mode")
             .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site")),
                               Prefetch("change_requests", queryset=ChangeRequest.objects.order_by("-requested_at")))
             .first())
    if alloc is None:
        raise Http404
    return alloc


def allocation_team(allocation: Allocation) -> list[TeamMember]:
    return list(TeamMember.objects.filter(application_id=allocation.application_id).order_by("full_name"))


def allocation_conditions(allocation: Allocation) -> list[EthicsCondition]:
    return list(EthicsCondition.objects.filter(review__application_id=allocation.application_id)
                .select_related("acknowledged_by", "evidence").order_by("pk"))


def team_member_of_allocation(allocation: Allocation, pk: int) -> TeamMember:
    member = TeamMember.objects.filter(application_id=allocation.application_id, pk=pk).first()
    if member is None:
        raise Http404
    return member


def condition_of_allocation(allocation: Allocation, pk: int) -> EthicsCondition:
    cond = (EthicsCondition.objects.filter(review__application_id=allocation.application_id, pk=pk)
            .select_related("review__application").first())
    if cond is None:
        raise Http404
    return cond


def latest_usage(allocation: Allocation) -> dict[int, UsageSnapshot]:
    """The newest usage snapshot per site, if provisioning has reported any."""
    latest: dict[int, UsageSnapshot] = {}
    for snap in UsageSnapshot.objects.filter(allocation=allocation).order_by("site_id", "-taken_at"):
        latest.setdefault(snap.site_id, snap)
    return latest


@dataclass
class QuotaUsage:
    """What one site reported as used of one quota. Sshare reports whole TRES-minutes: hours and
    percentages are computed from the minutes (never from rounded hours), and a percentage is rounded
    down, so 50 of 60 GPU-minutes is 83 %, not 100 %."""

    quota: AllocationQuota
    snapshot: UsageSnapshot | None
    storage: StorageProvision | None = None  # the storage's provisioning on the site, once it started

    @staticmethod
    def _percent(minutes: int, hours: int) -> int | None:
        return 100 * minutes // (hours * 60) if hours else None

    @property
    def reported(self) -> bool:
        return self.snapshot is not None

    @property
    def gpu_hours_used(self) -> float | None:
        return self.snapshot.gpu_minutes / 60 if self.snapshot else None

    @property
    def cpu_core_hours_used(self) -> float | None:
        return self.snapshot.cpu_minutes / 60 if self.snapshot else None

    @property
    def gpu_hours_remaining(self) -> float:
        """What is left of the GPU-hours granted (all of it before any usage is reported; never below 0)."""
        used = self.snapshot.gpu_minutes if self.snapshot else 0
        return max(self.quota.gpu_hours * 60 - used, 0) / 60

    @property
    def gpu_percent(self) -> int | None:
        return self._percent(self.snapshot.gpu_minutes, self.quota.gpu_hours) if self.snapshot else None

    @property
    def cpu_percent(self) -> int | None:
        return self._percent(self.snapshot.cpu_minutes, self.quota.cpu_core_hours) if self.snapshot else None


def quota_usage(allocation: Allocation) -> list[QuotaUsage]:
    """Each quota of the allocation with the newest usage its site reported and the provisioning of its
    storage (three queries)."""
    usage = latest_usage(allocation)
    storage = {row.site_id: row for row in StorageProvision.objects.filter(allocation=allocation)}
    return [QuotaUsage(quota=q, snapshot=usage.get(q.site_id), storage=storage.get(q.site_id))
            for q in allocation.quotas.select_related("site")]


# ----------------------------------------------------------------------------------------- capacity

@dataclass
class QuarterRow:
    period_start: datetime.date
    label: str
    sites: list[SiteCapacity]


def used_by_quarter(*, year: int | None = None) -> dict[tuple[int, datetime.date], int]:
    """GPU-hours used per (site, quarter), by the allocations that hold a reservation there.

    Each allocation's hours used on a site (its newest usage snapshot) count against its reservations in
    the order of the quarters: the first quarter's reservation fills first, then the next. One query."""
    reservations = CapacityReservation.objects.all()
    if year:
        reservations = reservations.filter(allocation__in=CapacityReservation.objects.filter(
            period_start__year=year).values("allocation"))
    newest = (UsageSnapshot.objects.filter(allocation=OuterRef("allocation"), site=OuterRef("site"))
              .order_by("-taken_at").values("gpu_minutes")[:1])
    used: dict[tuple[int, datetime.date], int] = {}
    left, current = 0, None
    for allocation_id, site_id, period, hours, minutes in (
            reservations.annotate(used_minutes=Subquery(newest))
            .order_by("allocation_id", "site_id", "period_start")
            .values_list("allocation_id", "site_id", "period_start", "gpu_hours", "used_minutes")):
        if current != (allocation_id, site_id):
            current, left = (allocation_id, site_id), -(-(minutes or 0) // 60)
        part = min(left, hours)
        left -= part
        if part and (not year or period.year == year):
            used[(site_id, period)] = used.get((site_id, period), 0) + part
    return used


def capacity_by_quarter(*, year: int | None = None) -> list[QuarterRow]:
    """Per quarter and site: published, committed (the sum of the allocations' reservations), used and
    free hours. The page, the API and the home's table read it; approvals check the same rows under lock
    (grants.services.capacity_plan). Two queries."""
    qs = SiteCapacity.objects.select_related("site").order_by("period_start", "site__name")
    if year:
        qs = qs.filter(period_start__year=year)
    used = used_by_quarter(year=year)
    quarters: dict[datetime.date, QuarterRow] = {}
    for cap in qs:
        row = quarters.get(cap.period_start)
        if row is None:
            row = quarters[cap.period_start] = QuarterRow(cap.period_start, quarter_label(cap.period_start), [])
        cap.gpu_percent = round(100 * cap.committed_gpu_hours / cap.gpu_hours) if cap.gpu_hours else 0
        cap.used_gpu_hours = used.get((cap.site_id, cap.period_start), 0)
        cap.used_percent = round(100 * cap.used_gpu_hours / cap.gpu_hours) if cap.gpu_hours else 0
        row.sites.append(cap)
    return list(quarters.values())


def split_needs(quotas: dict[int, dict], start: datetime.date, end: datetime.date,
                today: datetime.date | None = None) -> list[QuarterNeed]:
    """The quarters a grant of ``quotas`` (site id -> {"gpu_hours", "cpu_core_hours", ...}) reserves in, from its
    start (or today, when it has started) to ``end``, with the pro-rata share of each and the quarter's free
    capacity: what the manager's split per quarter starts from (capacity_plan spreads the same way). One
    query."""
    first = max(start, today or timezone.localdate())
    return capacity_needs({site_id: (int(q.get("gpu_hours") or 0), int(q.get("cpu_core_hours") or 0))
                           for site_id, q in quotas.items()}, first, end)


def top_up_split_needs(change_request: ChangeRequest, today: datetime.date | None = None) -> list[QuarterNeed]:
    """The quarters an approved top-up re-plans (grants.services.capacity_plan): per site, what the quotas after
    the top-up leave after the quarters before the current one (services.hours_to_spread), spread pro rata from
    today (or the start) to the end, each beside the quarter's free capacity plus what the allocation holds
    there already (the re-plan gives that back before it takes). Three queries."""
    today = today or timezone.localdate()
    alloc = change_request.allocation
    current = quarter_start(today)
    quotas = {q.site_id: [q.gpu_hours, q.cpu_core_hours] for q in alloc.quotas.all()}
    for site_id, added in top_up_increments(change_request).items():
        quota = quotas.setdefault(site_id, [0, 0])
        quota[0] += added["gpu_hours"]
        quota[1] += added["cpu_core_hours"]
    held = {(r.site_id, r.period_start): Reserved(r.gpu_hours, r.cpu_core_hours)
            for r in CapacityReservation.objects.filter(allocation=alloc)}
    totals = {site_id: hours_to_spread(gpu, cpu, held, site_id, current) for site_id, (gpu, cpu) in quotas.items()}
    needs = capacity_needs(totals, max(alloc.start_date, today), alloc.end_date)
    return [dataclasses.replace(n, held_gpu_hours=kept.gpu_hours, held_cpu_core_hours=kept.cpu_core_hours)
            for n in needs for kept in [held.get((n.site_id, n.period_start), Reserved())]]


def capacity_years() -> list[int]:
    return sorted({d.year for d in SiteCapacity.objects.dates("period_start", "year")})


# -------------------------------------------------------------------------------------- allocations

def of_allocations(qs: QuerySet, path: str = "", *, site: str = "", mode: str = "", sector: str = "",
                   organisation: int | None = None) -> QuerySet:
    """Rows narrowed by the staff lists' shared filters on their allocation: a site of its quotas, the access
    mode, the sector and the organisation. ``path`` leads from the row to its allocation ("" for Allocation,
    "allocation__" for a row that belongs to one)."""
    if site:
        qs = qs.filter(**{f"{path[:-2]}__in" if path else "pk__in":
                          AllocationQuota.objects.filter(site__code=site).values("allocation_id")})
    if mode:
        qs = qs.filter(**{f"{path}application__access_mode__code": mode})
    if sector:
        qs = qs.filter(**{f"{path}application__sector": sector})
    if organisation:
        qs = qs.filter(**{f"{path}organisation_id": organisation})
    return qs


def allocation_overview(*, status: str = "", sync_state: str = "", site: str = "", mode: str = "", sector: str = "",
                        organisation: int | None = None, date_from: datetime.date | None = None,
                        date_to: datetime.date | None = None, q: str = "") -> QuerySet:
    """Every allocation, newest first, filtered by the list's parameters (``grants.lists.ALLOCATION_LIST``;
    the dates bound the start date). The page rows in one query, their quotas in one more."""
    qs = (Allocation.objects.select_related("organisation", "application")
          .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site"))))
    if status:
        qs = qs.filter(status=status)
    if sync_state:
        qs = qs.filter(sync_state=sync_state)
    qs = of_allocations(qs, site=site, mode=mode, sector=sector, organisation=organisation)
    if date_from:
        qs = qs.filter(start_date__gte=date_from)
    if date_to:
        qs = qs.filter(start_date__lte=date_to)
    qs = search(qs, q, reference="reference", organisation=("organisation", "legal_name"))
    return qs.order_by("-created_at", "-pk")


def allocation_for_manager(reference: str) -> Allocation:
    alloc = (Allocation.objects.select_related("organisation", "application__access_mode")
             .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site")),
                               Prefetch("change_requests", queryset=ChangeRequest.objects.select_related(
                                   "requested_by", "decided_by")))
             .filter(reference=reference).first())
    if alloc is None:
        raise Http404
    return alloc


def change_requests_open() -> QuerySet:
    return (ChangeRequest.objects.filter(status=ChangeStatus.SUBMITTED)
            .select_related("allocation__organisation", "requested_by").order_by("requested_at"))


def change_request_overview(*, status: str = "", kind: str = "", site: str = "", mode: str = "", sector: str = "",
                            organisation: int | None = None, allocation: str = "",
                            date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                            q: str = "") -> QuerySet[ChangeRequest]:
    """Every change request, filtered by the list's parameters (``grants.lists.CHANGE_REQUEST_LIST``; the
    dates bound the day it was asked), its allocation, organisation and author joined: one query for a
    page. The search reads the allocation's reference and the organisation's name."""
    qs = ChangeRequest.objects.select_related("allocation__organisation", "requested_by", "decided_by")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    qs = of_allocations(qs, "allocation__", site=site, mode=mode, sector=sector, organisation=organisation)
    if allocation:
        qs = qs.filter(allocation__reference=allocation)
    qs = within_days(qs, "requested_at", date_from, date_to)
    return search(qs, q, reference="allocation__reference", organisation=("allocation__organisation", "legal_name"))


def change_request_for_manager(pk: int) -> ChangeRequest:
    cr = ChangeRequest.objects.select_related("allocation__organisation", "requested_by").filter(pk=pk).first()
    if cr is None:
        raise Http404
    return cr


def sites_by_id() -> dict[int, Site]:
    return {s.pk: s for s in Site.objects.all()}


def describe_change(cr: ChangeRequest, sites: dict[int, Site]) -> list[str]:
    """The change asked for, as lines a person reads (site ids resolved to names)."""
    payload = cr.payload or {}
    if cr.kind == ChangeKind.EXTENSION:
        return [_("New end date: %(date)s") % {"date": payload.get("end_date", "?")}]
    if cr.kind == ChangeKind.TOP_UP:
        lines = []
        for site_id, q in sorted(top_up_increments(cr).items()):
            site = sites.get(site_id)
            line = _("%(site)s: +%(gpu)s GPU-hours, +%(cpu)s CPU core-hours") % {
                "site": site.name if site else site_id,
                "gpu": number_format(q["gpu_hours"], force_grouping=True),
                "cpu": number_format(q["cpu_core_hours"], force_grouping=True)}
            if q["storage_tb"]:
                line += _(", +%(tb)s TB of storage") % {
                    "tb": number_format(q["storage_tb"], decimal_pos=2, force_grouping=True)}
            lines.append(line)
        return lines
    return [_("%(name)s <%(email)s> as %(username)s") % {
        "name": m.get("full_name"), "email": m.get("email"), "username": m.get("cluster_username")}
        for m in payload.get("members") or []]


def _latest_usage_per_site() -> QuerySet[UsageSnapshot]:
    ranked = UsageSnapshot.objects.annotate(rank=Window(
        RowNumber(), partition_by=[F("allocation_id"), F("site_id")], order_by=[F("taken_at").desc(), F("pk").desc()]))
    return ranked.filter(rank=1).select_related("site").order_by("site__name")


def _last_attempt() -> QuerySet[SyncAttempt]:
    ranked = SyncAttempt.objects.annotate(rank=Window(
        RowNumber(), partition_by=[F("allocation_id")], order_by=[F("started_at").desc(), F("pk").desc()]))
    return ranked.filter(rank=1).select_related("site")


def with_provisioning(qs: QuerySet[Allocation]) -> QuerySet[Allocation]:
    """The last sync attempt and the newest usage per site: two queries for any page. The scoping
    selectors this wraps (allocations_of_member, allocation_overview) already prefetch the quotas."""
    return qs.prefetch_related(
        Prefetch("sync_attempts", queryset=_last_attempt(), to_attr="last_attempts"),
        Prefetch("usage_snapshots", queryset=_latest_usage_per_site(), to_attr="latest_usage"),
    ).select_related("organisation", "application")


def change_requests_of(allocation: Allocation) -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(allocation=allocation).select_related("allocation")


def change_request_of_allocation(allocation: Allocation, pk: int) -> ChangeRequest:
    """A change request of an allocation the caller already reached through a scoping selector."""
    cr = change_requests_of(allocation).filter(pk=pk).first()
    if cr is None:
        raise Http404
    return cr


# ------------------------------------------------------------------------------------ staff home

# Quarters shown on the committee's home: the current one and the next.
HOME_QUARTERS = 2


def _quarter_label(period_start: datetime.date) -> str:
    return f"{period_start:%Y}-Q{(period_start.month - 1) // 3 + 1}"


def manager_work(user, today: datetime.date) -> list[WorkList | WorkTable]:
    """The committee's allocations: change requests to decide (no deadline: how long each has waited) and
    the capacity left per site in the current and the next quarter (three queries)."""
    requests = change_requests_open()
    list_url = reverse("grants:change_request_list")
    first = quarter_start(today)
    quarters = [first]
    for _n in range(HOME_QUARTERS - 1):
        quarters.append(quarter_start(quarters[-1] + datetime.timedelta(days=93)))
    rows = []
    for cap in (SiteCapacity.objects.filter(period_start__in=quarters).select_related("site")
                .order_by("period_start", "site__name")):
        free = cap.remaining_gpu_hours
        percent = round(100 * cap.committed_gpu_hours / cap.gpu_hours) if cap.gpu_hours else 0
        rows.append([_quarter_label(cap.period_start), cap.site.name,
                     number_format(cap.gpu_hours, force_grouping=True),
                     _("%(hours)s (%(percent)s%%)") % {
                         "hours": number_format(cap.committed_gpu_hours, force_grouping=True), "percent": percent},
                     number_format(free, force_grouping=True)])
    return [
        WorkList(key="changes", label=_("Change requests to decide"), count=requests.count(), link=list_url,
                 empty=_("No change request waits for a decision."),
                 items=[waiting_item(title=f"{cr.allocation.reference} · {cr.allocation.organisation.legal_name}",
                                     detail=str(cr.get_kind_display()), since=timezone.localdate(cr.requested_at),
                                     today=today, link=f"{list_url}#cr-{cr.pk}")
                        for cr in requests[:ITEMS_SHOWN]]),
        WorkTable(key="capacity", label=_("GPU capacity per site"), link=reverse("grants:capacity"),
                  headers=[_("Quarter"), _("Site"), _("Published GPU-hours"), pgettext("capacity", "Committed"),
                           pgettext("capacity", "Free")],
                  rows=rows),
    ]
