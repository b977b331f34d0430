"""Reads for the staff pages: permission scoping, joins and prefetches so that lists cost a fixed
number of queries whatever their length."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.home import ITEMS_SHOWN, WorkList, due_item
from accounts.models import SENSITIVE_SECTORS, Membership, User
from accounts.roles import ROLE_GROUPS, Role
from allocations.applications.models import Application, ApplicationStatus, RequestedResource
from allocations.applications.presentation import ethics_rows
from allocations.applications.selectors import attachments_for_reader, of_applications
from allocations.review.models import (
    ApplicantReply,
    AssignmentStatus,
    ConflictDeclaration,
    Decision,
    Review,
    ReviewAssignment,
    ReviewerPool,
    ReviewKind,
)
from allocations.review.permissions import CONTENT_READABLE
from allocations.review.presentation import score_rows
from compliance.ai_act import engine
from compliance.models import EthicsReview, RiskAssessment
from compliance.selectors import assessment_result
from compliance.services import approval_blockers
from compliance.workflow import CLEARED as ETHICS_CLEARED
from portal.audit import AuditAction
from portal.listquery import search, within_days
from portal.models import AuditEvent
from portal.workdays import add_working_days, working_days_between

# While the reviews are still being written the applicant sees none of them.
REVIEWS_HIDDEN = {ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW}



def reply_window_open(application: Application) -> bool:
    """The right to reply: the reviews are in, the decision is not, and the mode grants it."""
    mode = application.access_mode
    return (application.status == ApplicationStatus.AWAITING_DECISION and mode is not None
            and bool((mode.review_path or {}).get("right_to_reply")))


def application_feedback(application: Application) -> dict:
    """What the applicant reads after the reviews, on the page and in the API alike: the anonymous
    comments, the decisions, their reply, and whether they may still reply."""
    reply = ApplicantReply.objects.filter(application=application).first()
    return {"reviews": feedback_for_applicant(application),
            "decisions": list(Decision.objects.filter(application=application).order_by("decided_at")),
            "reply": reply, "can_reply": reply_window_open(application) and reply is None}


def feedback_for_applicant(application: Application) -> list[dict]:
    """The reviewers' comments for the applicant, without names: "Technical review 1", ..."""
    if application.status in REVIEWS_HIDDEN:
        return []
    reviews = (
        Review.objects.filter(assignment__application=application, assignment__status=AssignmentStatus.SUBMITTED)
        .select_related("assignment")
        .order_by("assignment__kind", "submitted_at")
    )
    rows, counters = [], {}
    for review in reviews:
        kind = review.assignment.get_kind_display()
        counters[kind] = counters.get(kind, 0) + 1
        rows.append({"label": f"{kind} {counters[kind]}", "comments": review.comments_for_applicant})
    return rows


# Statuses in which the committee still owes the applicant a decision.
OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW, ApplicationStatus.AWAITING_DECISION)
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)


# ------------------------------------------------------------------------------------ applications


#: What the committee's list (page and API) reads of an application and the rows joined to it.
OVERVIEW_FIELDS = ("reference", "title", "status", "call_id", "created_at", "updated_at", "submitted_at",
                   "decision_due", "organisation__legal_name", "access_mode__code", "access_mode__name")


def application_overview(*, status: str = "", mode: str = "", site: str = "", sector: str = "",
                         organisation: int | None = None, date_from: datetime.date | None = None,
                         date_to: datetime.date | None = None, q: str = "") -> QuerySet:
    """Every application except drafts (the committee never sees a draft, nor one withdrawn before it was
    submitted), newest first; filtered by the list's parameters (``APPLICATION_LIST``), the dates on
    the day of submission.

    One query for the page rows (organisation and mode joined) and one for their requested sites' names; a
    search by organisation name adds one for the matching organisations (portal.listquery.search). Only the
    columns the page and the API list show are read: an application's texts, answers and the mode's JSON
    settings are not decoded for a list."""
    qs = (
        Application.objects.ever_submitted().exclude(status=ApplicationStatus.DRAFT)
        .select_related("organisation", "access_mode")
        .only(*OVERVIEW_FIELDS)
        .prefetch_related(Prefetch("resources", queryset=RequestedResource.objects.select_related("site")
                                   .only("application_id", "site__name")))
    )
    if status:
        qs = qs.filter(status=status)
    qs = of_applications(qs, site=site, mode=mode, sector=sector, organisation=organisation)
    qs = within_days(qs, "submitted_at", date_from, date_to)
    qs = search(qs, q, reference="reference", fields=["title"], organisation=("organisation", "legal_name"))
    return qs.order_by("-submitted_at", "-pk")


def application_for_manager(reference: str) -> Application:
    app = (
        Application.objects.ever_submitted().exclude(status=ApplicationStatus.DRAFT)
        .select_related("organisation", "access_mode", "call", "created_by")
        .filter(reference=reference)
        .first()
    )
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
    assignments = list(
        application.assignments.exclude(status=AssignmentStatus.CANCELLED)
        .select_related("reviewer", "review")
        .order_by("kind", "assigned_at")
    )
    rubric = {c["code"]: c for c in (application.access_mode.rubric if application.access_mode else []) or []}
    for a in assignments:
        review = getattr(a, "review", None) if a.status == AssignmentStatus.SUBMITTED else None
        a.review_obj = review
        a.score_rows = score_rows(list(rubric.values()), review.scores) if review else []
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
    assigned: bool  # holds an assignment on this application that is neither cancelled nor conflicted
    load: int = 0  # open assignments (to declare or to review) on applications in review
    max_load: int = 0

    @property
    def overloaded(self) -> bool:
        return self.load >= self.max_load

    @property
    def assignable(self) -> bool:
        """Offered in the assignment form: no likely conflict, not assigned already, room for one more."""
        return not (self.conflicts or self.assigned or self.overloaded)


def max_open_assignments() -> int:
    return settings.AIF_REVIEWER_MAX_OPEN_ASSIGNMENTS


def reviewer_loads(reviewer_ids) -> dict[int, int]:
    """Open assignments per reviewer: declared or not, not yet reviewed, on applications still in review.
    A conflicted, cancelled or submitted assignment no longer counts."""
    rows = (ReviewAssignment.objects
            .filter(reviewer_id__in=list(reviewer_ids), status__in=OPEN_ASSIGNMENT_STATUSES,
                    application__status=ApplicationStatus.IN_REVIEW)
            .values("reviewer_id").annotate(n=Count("pk")).order_by())
    return {row["reviewer_id"]: row["n"] for row in rows}


def reviewer_candidates(application: Application, kind: str) -> list[Candidate]:
    """Members of the pools eligible for this application and kind, with any likely conflict (a conflict
    declared on this application included) and their load; the assignable ones first, the least loaded
    first among them."""
    pools = eligible_pools(application, kind)
    by_user: dict[int, Candidate] = {}
    assigned = set(
        application.assignments.exclude(status__in=[AssignmentStatus.CANCELLED, AssignmentStatus.CONFLICTED])
        .values_list("reviewer_id", flat=True)
    )
    for pool in pools:
        for person in pool.members.filter(is_active=True, groups__name=ROLE_GROUPS[Role.REVIEWER]).order_by(
            "full_name", "email"
        ):
            cand = by_user.get(person.pk)
            if cand is None:
                cand = by_user[person.pk] = Candidate(
                    person, [], detect_conflicts(person, application), person.pk in assigned
                )
            cand.pools.append(pool.name)
    loads, limit = reviewer_loads(by_user), max_open_assignments()
    for cand in by_user.values():
        cand.load, cand.max_load = loads.get(cand.reviewer.pk, 0), limit
    return sorted(by_user.values(), key=lambda c: (not c.assignable, bool(c.conflicts), c.load,
                                                   c.reviewer.display_name.lower()))


def declared_conflicts(application: Application) -> list[ReviewAssignment]:
    """Assignments whose reviewer declared a conflict of interest: the reviews to assign again."""
    return list(application.assignments.filter(status=AssignmentStatus.CONFLICTED)
                .select_related("reviewer").order_by("coi_declared_at", "pk"))


def review_kinds_needed(application: Application) -> list[tuple[str, int, int]]:
    """(kind, required, assigned so far) for each kind on the mode's review path."""
    path = (application.access_mode.review_path if application.access_mode else {}) or {}
    counts: dict[str, int] = defaultdict(int)
    for kind in application.assignments.exclude(
        status__in=[AssignmentStatus.CANCELLED, AssignmentStatus.CONFLICTED]
    ).values_list("kind", flat=True):
        counts[kind] += 1
    return [
        (kind, int(path.get(kind, 0)), counts[kind]) for kind in ReviewKind.values if int(path.get(kind, 0))
    ]


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
    rows = (
        Application.objects.filter(status__in=OPEN_STATUSES, decision_due__isnull=False, decision_due__lte=horizon)
        .select_related("organisation", "access_mode")
        .order_by("decision_due", "pk")
    )
    return [_late(app, app.decision_due, today) for app in rows]


def assignments_overdue(*, today: datetime.date | None = None) -> list[Late]:
    """Open assignments past their due date whose application is still in review (``assignment_late`` marks
    one row already read by the same rule)."""
    today = today or timezone.localdate()
    rows = (
        ReviewAssignment.objects.filter(
            status__in=OPEN_ASSIGNMENT_STATUSES, due_date__lt=today, application__status=ApplicationStatus.IN_REVIEW
        )
        .select_related("application__organisation", "reviewer")
        .order_by("due_date", "pk")
    )
    return [_late(a, a.due_date, today) for a in rows]


def assignment_late(assignment: ReviewAssignment, today: datetime.date) -> Late | None:
    """How late one assignment already read (its application's status with it) is, by the rule of
    ``assignments_overdue``; None when it is not overdue. A page of a reviewer's list marks its own rows
    with it, without reading every overdue assignment again."""
    due = assignment.due_date
    if (assignment.status in OPEN_ASSIGNMENT_STATUSES and due is not None and due < today
            and assignment.application.status == ApplicationStatus.IN_REVIEW):
        return _late(assignment, due, today)
    return None


def _late(obj, due: datetime.date, today: datetime.date) -> Late:
    return Late(obj, due, working_days_between(due, today), due < today)


# ----------------------------------------------------------------------------------------- reviewers


def assignments_of(reviewer: User) -> QuerySet:
    """A reviewer's own assignments. Before the declaration only reference and organisation are shown."""
    return (
        ReviewAssignment.objects.filter(reviewer=reviewer)
        .exclude(status=AssignmentStatus.CANCELLED)
        .select_related("application__organisation")
        .order_by("status", "due_date", "pk")
    )


#: What a reviewer's list (page and API) reads of an assignment and of the rows joined to it.
ASSIGNMENT_OVERVIEW_FIELDS = ("reviewer_id", "kind", "status", "assigned_at", "due_date", "coi_declared_at",
                              "application__reference", "application__status",
                              "application__organisation__legal_name")


def assignment_overview(*, reviewer: User, status: str = "", kind: str = "", mode: str = "", site: str = "",
                        sector: str = "", organisation: int | None = None, date_from: datetime.date | None = None,
                        date_to: datetime.date | None = None, q: str = "") -> QuerySet:
    """A reviewer's own assignments filtered by the list's parameters (``ASSIGNMENT_LIST``; the dates bound
    the due date). Another reviewer's assignments are never in it, and the search reads the title only
    where the reviewer may read the content (portal.listquery.search's ``also``): a conflicted
    application's title is not an answer to a guess. The page rows in one query."""
    qs = assignments_of(reviewer)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    qs = of_applications(qs, "application__", site=site, mode=mode, sector=sector, organisation=organisation)
    if date_from:
        qs = qs.filter(due_date__gte=date_from)
    if date_to:
        qs = qs.filter(due_date__lte=date_to)
    text = q.strip()
    readable_title = Q(status__in=CONTENT_READABLE, application__title__icontains=text) if text else None
    return search(qs.only(*ASSIGNMENT_OVERVIEW_FIELDS), q, reference="application__reference",
                  organisation=("application__organisation", "legal_name"), also=readable_title, narrow=True)


def assignment_for_reviewer(reviewer: User, pk: int) -> ReviewAssignment:
    """Another reviewer's assignment does not exist for this one (404)."""
    a = (
        ReviewAssignment.objects.filter(reviewer=reviewer, pk=pk)
        .exclude(status=AssignmentStatus.CANCELLED)
        .select_related("application__organisation", "application__access_mode")
        .first()
    )
    if a is None:
        raise Http404
    return a


def application_content(application: Application, *, viewer) -> dict:
    """Everything a reviewer scores, on one page (and the manager's eligibility check): the resources per
    site, the team, the AI Act assessment and its result in the reader's language, the answers on the
    ethics issues, and the documents with whether `viewer` may open them (the attachment rule)."""
    assessment = RiskAssessment.objects.filter(application=application).first()
    language = engine.supported_language(translation.get_language())
    return {
        "resources": list(application.resources.select_related("site")),
        "team": list(application.team.all()),
        "assessment": assessment,
        "result": assessment_result(application, assessment, language),
        "ethics_rows": ethics_rows(application),
        **attachments_for_reader(viewer, application),
    }


def assignments_for_manager(application) -> list[ReviewAssignment]:
    return list(
        application.assignments.exclude(status=AssignmentStatus.CANCELLED)
        .select_related("review")
        .order_by("kind", "assigned_at")
    )


# ------------------------------------------------------------------------------ reviewer pool

# Mail domains shared by unrelated people: a reviewer and an applicant on one of these are not linked.
PUBLIC_MAIL_DOMAINS = {
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "proton.me",
    "protonmail.com",
    "icloud.com",
    "gmx.de",
    "gmx.net",
    "telenet.be",
    "skynet.be",
    "live.com",
}


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def detect_conflicts(reviewer: User, application: Application) -> list[str]:
    """Likely conflicts of interest, each as a human-readable reason."""
    reasons: list[str] = []
    org = application.organisation
    if Membership.objects.filter(user=reviewer, organisation=org).exists():
        reasons.append(_("%(name)s is a member of %(org)s.") % {"name": reviewer.display_name, "org": org.legal_name})
    # Past memberships survive in the audit trail after the membership row is removed.
    if AuditEvent.objects.filter(
        action=AuditAction.MEMBERSHIP_REMOVED, changes__organisation_id=org.pk, changes__user_id=reviewer.pk
    ).exists():
        reasons.append(_("%(name)s was a member of %(org)s.") % {"name": reviewer.display_name, "org": org.legal_name})
    if ConflictDeclaration.objects.filter(reviewer=reviewer, organisation=org).exists():
        reasons.append(
            _("%(name)s declared a conflict with %(org)s.") % {"name": reviewer.display_name, "org": org.legal_name}
        )
    declared = ReviewAssignment.objects.filter(application=application, reviewer=reviewer,
                                               status=AssignmentStatus.CONFLICTED).first()
    if declared is not None:
        reasons.append(
            _("%(name)s declared a conflict of interest with this application: %(reason)s")
            % {"name": reviewer.display_name, "reason": declared.coi_statement or "—"}
        )
    member_emails = list(Membership.objects.filter(organisation=org).values_list("user__email", flat=True))
    domain = _domain(reviewer.email)
    if domain not in PUBLIC_MAIL_DOMAINS and any(_domain(e) == domain for e in member_emails):
        reasons.append(
            _("%(name)s shares the e-mail domain %(domain)s with the applicant's members.")
            % {"name": reviewer.display_name, "domain": domain}
        )
    reviewer_orgs = set(Membership.objects.filter(user=reviewer).values_list("organisation_id", flat=True))
    applicant_people = Membership.objects.filter(organisation=org).values_list("user_id", flat=True)
    shared = (
        Membership.objects.filter(organisation_id__in=reviewer_orgs, user_id__in=applicant_people)
        .exclude(organisation=org)
        .select_related("organisation")
        .first()
    )
    if shared is not None:
        reasons.append(
            _("%(name)s and a member of the applicant belong to %(org)s.")
            % {"name": reviewer.display_name, "org": shared.organisation.legal_name}
        )
    return reasons


def eligible_pools(application: Application, kind: str):
    pools = ReviewerPool.objects.filter(kind=kind)
    if application.sector in SENSITIVE_SECTORS:
        return [p for p in pools if application.sector in (p.restricted_sectors or [])]
    return [p for p in pools if not p.restricted_sectors]


# ------------------------------------------------------------------------------------ staff home

BY_DUE_DATE = (F("decision_due").asc(nulls_last=True), "pk")


def _application_title(app: Application) -> str:
    return f"{app.reference} · {app.organisation.legal_name}"


def reviewer_work(user: User, today: datetime.date) -> list[WorkList]:
    """A reviewer's home: conflict declarations to make, then reviews to write, overdue first (one query)."""
    open_assignments = list(
        ReviewAssignment.objects.filter(reviewer=user, status__in=OPEN_ASSIGNMENT_STATUSES,
                                        application__status=ApplicationStatus.IN_REVIEW)
        .select_related("application__organisation")
        .order_by(F("due_date").asc(nulls_last=True), "pk"))
    lists = []
    for key, status, label, empty in (
        ("declare", AssignmentStatus.ASSIGNED, _("Conflict declarations to make"),
         _("No declaration waiting.")),
        ("review", AssignmentStatus.ACCEPTED, _("Reviews to write"), _("No review waiting.")),
    ):
        rows = [a for a in open_assignments if a.status == status]
        items = [due_item(title=_application_title(a.application), detail=str(a.get_kind_display()),
                          link=reverse("review:assignment_detail", args=[a.pk]), due=a.due_date, today=today)
                 for a in rows[:ITEMS_SHOWN]]
        lists.append(WorkList(key=key, label=label, count=len(rows), items=items,
                              link=reverse("review:assignment_list"), empty=empty))
    return lists


def conflicts_to_reassign() -> list[ReviewAssignment]:
    """Declared conflicts on applications still in review whose kind of review is short of reviewers
    (fewer assigned, reviewing or submitted than the mode's review path asks for): the committee must
    find another reviewer. One per application and kind, earliest decision date first (two queries)."""
    conflicted = list(
        ReviewAssignment.objects.filter(status=AssignmentStatus.CONFLICTED,
                                        application__status=ApplicationStatus.IN_REVIEW)
        .select_related("application__organisation", "application__access_mode", "reviewer")
        .order_by(F("application__decision_due").asc(nulls_last=True), "application_id", "pk"))
    if not conflicted:
        return []
    active = defaultdict(int)
    for application_id, kind in (ReviewAssignment.objects
                                 .filter(application_id__in={a.application_id for a in conflicted},
                                         status__in=[*OPEN_ASSIGNMENT_STATUSES, AssignmentStatus.SUBMITTED])
                                 .values_list("application_id", "kind")):
        active[application_id, kind] += 1
    short, seen = [], set()
    for a in conflicted:
        path = (a.application.access_mode.review_path if a.application.access_mode else {}) or {}
        key = (a.application_id, a.kind)
        if key not in seen and active[key] < int(path.get(a.kind, 0)):
            seen.add(key)
            short.append(a)
    return short


def applications_ready_for_decision() -> QuerySet[Application]:
    """Every review in (awaiting decision) and the ethics review cleared."""
    return (Application.objects.filter(status=ApplicationStatus.AWAITING_DECISION,
                                       ethics_review__status__in=ETHICS_CLEARED)
            .select_related("organisation").order_by(*BY_DUE_DATE))


def manager_work(user: User, today: datetime.date) -> list[WorkList]:
    """The committee's applications: eligibility checks, decisions, conflicts to reassign (six queries)."""
    eligibility = (Application.objects.filter(status=ApplicationStatus.SUBMITTED)
                   .select_related("organisation").order_by(*BY_DUE_DATE))
    ready = applications_ready_for_decision()
    conflicts = conflicts_to_reassign()
    list_url = reverse("review:application_list")
    return [
        WorkList(key="eligibility", label=_("Eligibility checks"), count=eligibility.count(),
                 link=f"{list_url}?status={ApplicationStatus.SUBMITTED}", empty=_("No application to check."),
                 items=[due_item(title=_application_title(app), detail=app.title, due=app.decision_due, today=today,
                                 link=reverse("review:application_eligibility", args=[app.reference]))
                        for app in eligibility[:ITEMS_SHOWN]]),
        WorkList(key="decision", label=_("Ready for a decision"), count=ready.count(),
                 link=f"{list_url}?status={ApplicationStatus.AWAITING_DECISION}",
                 empty=_("No application waits for a decision."),
                 items=[due_item(title=_application_title(app), detail=app.title, due=app.decision_due, today=today,
                                 link=reverse("review:application_decision", args=[app.reference]))
                        for app in ready[:ITEMS_SHOWN]]),
        WorkList(key="conflicts", label=_("Declared conflicts: reviewers to replace"), count=len(conflicts),
                 empty=_("No declared conflict waits for a new reviewer."),
                 items=[due_item(title=_application_title(a.application),
                                 detail=_("%(name)s, %(kind)s") % {"name": a.reviewer.display_name,
                                                                  "kind": a.get_kind_display()},
                                 due=a.application.decision_due, today=today,
                                 link=reverse("review:application_reviewers", args=[a.application.reference]))
                        for a in conflicts[:ITEMS_SHOWN]]),
    ]
