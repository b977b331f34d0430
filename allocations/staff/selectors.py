"""Reads for the staff pages: permission scoping, joins and prefetches so that lists cost a fixed
number of queries whatever their length."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import ROLE_GROUPS, Role
from compliance.models import EthicsReview, RiskAssessment
from compliance.services import approval_blockers

from ..calendar import add_working_days, working_days_between
from ..models import (
    Allocation,
    AllocationQuota,
    Application,
    ApplicationStatus,
    AssignmentStatus,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    RequestedResource,
    ReviewAssignment,
    ReviewKind,
    Site,
    SiteCapacity,
    TeamMember,
)
from ..services.reviews import detect_conflicts, eligible_pools

# Statuses in which the committee still owes the applicant a decision.
OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW, ApplicationStatus.AWAITING_DECISION)
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)


# ------------------------------------------------------------------------------------ applications

def application_overview(*, status: str = "", mode: str = "", site: str = "", search: str = "") -> QuerySet:
    """Every application except drafts (the committee never sees a draft), newest first.

    One query for the page rows (organisation and mode joined) and one for their requested sites."""
    qs = (Application.objects.exclude(status=ApplicationStatus.DRAFT)
          .select_related("organisation", "access_mode")
          .prefetch_related(Prefetch("resources", queryset=RequestedResource.objects.select_related("site"))))
    if status:
        qs = qs.filter(status=status)
    if mode:
        qs = qs.filter(access_mode__code=mode)
    if site:
        qs = qs.filter(pk__in=RequestedResource.objects.filter(site__code=site).values("application_id"))
    search = search.strip()
    if search:
        qs = qs.filter(Q(reference__icontains=search) | Q(title__icontains=search)
                       | Q(organisation__legal_name__icontains=search))
    return qs.order_by("-submitted_at", "-pk")


def application_for_manager(reference: str) -> Application:
    app = (Application.objects.exclude(status=ApplicationStatus.DRAFT)
           .select_related("organisation", "access_mode", "call", "created_by")
           .filter(reference=reference).first())
    if app is None:
        raise Http404
    return app


@dataclass
class DecisionContext:
    application: Application
    resources: list
    assignments: list
    reply: object | None
    assessment: RiskAssessment | None
    ethics: EthicsReview | None
    conditions: list
    blockers: list[str]
    decisions: list
    team: list = field(default_factory=list)


def decision_context(application: Application) -> DecisionContext:
    """Everything the committee reads before deciding, fetched once."""
    assignments = list(application.assignments.exclude(status=AssignmentStatus.CANCELLED)
                       .select_related("reviewer", "review").order_by("kind", "assigned_at"))
    rubric = {c["code"]: c for c in (application.access_mode.rubric if application.access_mode else []) or []}
    for a in assignments:
        review = getattr(a, "review", None) if a.status == AssignmentStatus.SUBMITTED else None
        a.review_obj = review
        a.score_rows = ([(rubric.get(code, {}).get("label", code), value, rubric.get(code, {}).get("scale", 5))
                         for code, value in review.scores.items()] if review else [])
    assessment = RiskAssessment.objects.filter(application=application).first()
    ethics = EthicsReview.objects.filter(application=application).prefetch_related("conditions").first()
    return DecisionContext(
        application=application,
        resources=list(application.resources.select_related("site")),
        assignments=assignments,
        reply=getattr(application, "reply", None),
        assessment=assessment,
        ethics=ethics,
        conditions=list(ethics.conditions.all()) if ethics else [],
        blockers=approval_blockers(application),
        decisions=list(application.decisions.select_related("decided_by")),
        team=list(application.team.all()),
    )


@dataclass
class Candidate:
    reviewer: User
    pools: list[str]
    conflicts: list[str]
    assigned: bool


def reviewer_candidates(application: Application, kind: str) -> list[Candidate]:
    """Members of the pools eligible for this application and kind, with any likely conflict."""
    pools = eligible_pools(application, kind)
    by_user: dict[int, Candidate] = {}
    assigned = set(application.assignments.exclude(status=AssignmentStatus.CANCELLED)
                   .values_list("reviewer_id", flat=True))
    for pool in pools:
        for person in pool.members.filter(is_active=True, groups__name=ROLE_GROUPS[Role.REVIEWER]).order_by(
                "full_name", "email"):
            cand = by_user.get(person.pk)
            if cand is None:
                cand = by_user[person.pk] = Candidate(person, [], detect_conflicts(person, application),
                                                      person.pk in assigned)
            cand.pools.append(pool.name)
    return sorted(by_user.values(), key=lambda c: (bool(c.conflicts), c.reviewer.display_name.lower()))


def review_kinds_needed(application: Application) -> list[tuple[str, int, int]]:
    """(kind, required, assigned so far) for each kind on the mode's review path."""
    path = (application.access_mode.review_path if application.access_mode else {}) or {}
    counts: dict[str, int] = defaultdict(int)
    for kind in application.assignments.exclude(status__in=[AssignmentStatus.CANCELLED, AssignmentStatus.CONFLICTED]) \
            .values_list("kind", flat=True):
        counts[kind] += 1
    return [(kind, int(path.get(kind, 0)), counts[kind]) for kind in ReviewKind.values
            if int(path.get(kind, 0))]


# ---------------------------------------------------------------------------------------- deadlines

@dataclass
class Late:
    obj: object
    due: datetime.date
    working_days: int  # positive: overdue by that many working days; 0 or negative: working days left
    overdue: bool


def applications_due(*, today: datetime.date | None = None, within_working_days: int = 1) -> list[Late]:
    """Open applications whose decision is overdue or due within `within_working_days` working days."""
    today = today or timezone.localdate()
    horizon = add_working_days(today, within_working_days)
    rows = (Application.objects.filter(status__in=OPEN_STATUSES, decision_due__isnull=False,
                                       decision_due__lte=horizon)
            .select_related("organisation", "access_mode").order_by("decision_due", "pk"))
    return [_late(app, app.decision_due, today) for app in rows]


def assignments_overdue(*, today: datetime.date | None = None, reviewer: User | None = None) -> list[Late]:
    today = today or timezone.localdate()
    rows = (ReviewAssignment.objects.filter(status__in=OPEN_ASSIGNMENT_STATUSES, due_date__lt=today,
                                            application__status=ApplicationStatus.IN_REVIEW)
            .select_related("application__organisation", "reviewer").order_by("due_date", "pk"))
    if reviewer is not None:
        rows = rows.filter(reviewer=reviewer)
    return [_late(a, a.due_date, today) for a in rows]


def _late(obj, due: datetime.date, today: datetime.date) -> Late:
    return Late(obj, due, working_days_between(due, today), due < today)


# ----------------------------------------------------------------------------------------- capacity

@dataclass
class QuarterRow:
    period_start: datetime.date
    label: str
    sites: list[SiteCapacity]


def capacity_by_quarter(*, year: int | None = None) -> list[QuarterRow]:
    qs = SiteCapacity.objects.select_related("site").order_by("period_start", "site__name")
    if year:
        qs = qs.filter(period_start__year=year)
    quarters: dict[datetime.date, QuarterRow] = {}
    for cap in qs:
        row = quarters.get(cap.period_start)
        if row is None:
            row = quarters[cap.period_start] = QuarterRow(
                cap.period_start, f"{cap.period_start:%Y}-Q{(cap.period_start.month - 1) // 3 + 1}", [])
        cap.gpu_percent = round(100 * cap.committed_gpu_hours / cap.gpu_hours) if cap.gpu_hours else 0
        row.sites.append(cap)
    return list(quarters.values())


def capacity_years() -> list[int]:
    return sorted({d.year for d in SiteCapacity.objects.dates("period_start", "year")})


# -------------------------------------------------------------------------------------- allocations

def allocation_overview(*, status: str = "", sync_state: str = "", search: str = "") -> QuerySet:
    qs = (Allocation.objects.select_related("organisation", "application")
          .prefetch_related(Prefetch("quotas", queryset=AllocationQuota.objects.select_related("site"))))
    if status:
        qs = qs.filter(status=status)
    if sync_state:
        qs = qs.filter(sync_state=sync_state)
    search = search.strip()
    if search:
        qs = qs.filter(Q(reference__icontains=search) | Q(organisation__legal_name__icontains=search))
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
        for site_id, q in sorted((payload.get("quotas") or {}).items()):
            site = sites.get(int(site_id))
            lines.append(_("%(site)s: +%(gpu)s GPU-hours, +%(cpu)s CPU core-hours") % {
                "site": site.name if site else site_id, "gpu": q.get("gpu_hours", 0),
                "cpu": q.get("cpu_core_hours", 0)})
        return lines
    return [_("%(name)s <%(email)s> as %(username)s") % {
        "name": m.get("full_name"), "email": m.get("email"), "username": m.get("cluster_username")}
        for m in payload.get("members") or []]


def allocation_team(allocation: Allocation) -> list:
    return list(TeamMember.objects.filter(application_id=allocation.application_id).order_by("full_name"))


# ----------------------------------------------------------------------------------------- reviewers

def assignments_of(reviewer: User) -> QuerySet:
    """A reviewer's own assignments. Before the declaration only reference and organisation are shown."""
    return (ReviewAssignment.objects.filter(reviewer=reviewer).exclude(status=AssignmentStatus.CANCELLED)
            .select_related("application__organisation").order_by("status", "due_date", "pk"))


def assignment_for_reviewer(reviewer: User, pk: int) -> ReviewAssignment:
    """Another reviewer's assignment does not exist for this one (404)."""
    a = (ReviewAssignment.objects.filter(reviewer=reviewer, pk=pk).exclude(status=AssignmentStatus.CANCELLED)
         .select_related("application__organisation", "application__access_mode").first())
    if a is None:
        raise Http404
    return a


def application_content(application: Application) -> dict:
    """What a reviewer reads once they declared no conflict."""
    return {
        "resources": list(application.resources.select_related("site")),
        "team": list(application.team.all()),
        "attachments": list(application.attachments.all()),
        "assessment": RiskAssessment.objects.filter(application=application).first(),
    }
