"""Selectors that assemble what a report prints.

Each builder runs a fixed number of queries whatever the number of decisions or events (joins and
prefetches, no query per row), and returns plain dataclasses: the templates and the CSV writer only
format. Labels are lazy translations, so the caller decides the language (translation.override)."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Sector
from allocations.applications.models import Application, ApplicationStatus, RequestedResource
from allocations.catalogue.models import AccessMode, Site
from allocations.grants.models import Allocation, AllocationQuota
from allocations.outcomes.models import OPEN_STATUSES, FinalReport, FinalReportStatus, Output, OutputKind
from allocations.provisioning.models import SyncAttempt, SyncOutcome, UsageSnapshot
from allocations.review.models import AssignmentStatus, ConflictDeclaration, Decision, DecisionOutcome, ReviewAssignment
from allocations.review.presentation import score_rows
from portal.audit import ChainVerification, action_label, events_for, verify_chain

from ..ai_act import engine
from ..ai_act.risk import NOT_ASSESSED, RiskClass, risk_class_label
from ..models import EthicsCondition, ReportAudience
from ..triggers import trigger_lines
from .events import change_lines

# Totals by risk class: strongest first (the enum's order), then "not assessed".
RISK_LABELS: dict[str, Any] = dict(RiskClass.choices) | {"": NOT_ASSESSED}
SLA_LABELS = {"met": _("met"), "missed": _("missed"), "": _("no deadline")}
# While reviews are being written the applicant sees none of them (as on the feedback page).
REVIEWS_HIDDEN_FROM_APPLICANT = {ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW}
# Audit actions whose details name reviewers: the applicant's dossier shows that they happened, not who.
STAFF_ONLY_EVENT_PREFIXES = ("review.",)


def _local_date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(value) if value else None


def _day_bounds(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Whole local days: [date_from 00:00, date_to + 1 day 00:00)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min), tz)
    end = timezone.make_aware(datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min), tz)
    return start, end


# --- period report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodFilters:
    date_from: datetime.date
    date_to: datetime.date
    site: str = ""  # Site.code
    access_mode: str = ""  # AccessMode.code
    sector: str = ""  # Sector value

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> PeriodFilters:
        return cls(date_from=datetime.date.fromisoformat(params["date_from"]),
                   date_to=datetime.date.fromisoformat(params["date_to"]),
                   site=params.get("site") or "", access_mode=params.get("access_mode") or "",
                   sector=params.get("sector") or "")

    def to_params(self) -> dict[str, str]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(), "site": self.site,
                "access_mode": self.access_mode, "sector": self.sector}


@dataclass
class DecisionRow:
    decision_id: int
    reference: str
    title: str
    organisation: str
    sector: str
    sector_label: Any
    access_mode: str
    access_mode_label: str
    decided_on: datetime.date
    decided_by: str
    outcome: str
    outcome_label: Any
    risk_class: str
    risk_label: Any
    ethics_status: str
    ethics_label: Any
    conditions_total: int
    conditions_acknowledged: int
    reviewers: list[str]
    decision_due: datetime.date | None
    sla: str  # met | missed | "" (no deadline)
    sla_label: Any
    sites: list[str]
    granted_gpu_hours: dict[str, int]
    allocation_reference: str
    allocation_status_label: Any
    sync_state: str
    sync_state_label: Any
    last_sync_outcome: str
    last_sync_outcome_label: Any
    last_sync_at: datetime.datetime | None
    final_report: str = ""  # FinalReportStatus, "" when none is owed (yet)
    final_report_label: Any = ""
    outputs: int = 0


@dataclass
class Total:
    key: str
    label: Any
    count: int
    gpu_hours: int = 0


@dataclass
class PeriodData:
    filters: PeriodFilters
    site_name: str
    access_mode_name: str
    sector_label: Any
    rows: list[DecisionRow]
    by_outcome: list[Total]
    by_risk: list[Total]
    by_sector: list[Total]
    by_site: list[Total]
    by_mode: list[Total]
    sla_met: int
    sla_missed: int
    sla_none: int
    chain: ChainVerification
    generated_at: datetime.datetime = field(default_factory=timezone.now)
    # Final reports due in the period (received: submitted at least once; overdue: still owed after the
    # due date), and the outputs recorded in the period by kind.
    reports_due: int = 0
    reports_received: int = 0
    reports_overdue: int = 0
    outputs_by_kind: list[Total] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def outputs_total(self) -> int:
        return sum(t.count for t in self.outputs_by_kind)


def period_decisions(filters: PeriodFilters) -> QuerySet[Decision]:
    """Every decision taken in the period (local days, inclusive), with everything a row prints."""
    start, end = _day_bounds(filters.date_from, filters.date_to)
    qs = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    if filters.site:
        qs = qs.filter(Exists(RequestedResource.objects.filter(application_id=OuterRef("application_id"),
                                                               site__code=filters.site)))
    if filters.access_mode:
        qs = qs.filter(application__access_mode__code=filters.access_mode)
    if filters.sector:
        qs = qs.filter(application__sector=filters.sector)
    last_attempt = (SyncAttempt.objects.filter(allocation_id=OuterRef("application__allocation__id"))
                    .order_by("-started_at", "-pk"))
    report = FinalReport.objects.filter(allocation_id=OuterRef("application__allocation__id"))
    outputs = (Output.objects.filter(allocation_id=OuterRef("application__allocation__id"))
               .values("allocation_id").annotate(n=Count("pk")).values("n"))
    return (qs.select_related("decided_by", "application__organisation", "application__access_mode",
                              "application__risk_assessment", "application__ethics_review",
                              "application__allocation")
            .annotate(last_sync_outcome=Subquery(last_attempt.values("outcome")[:1]),
                      last_sync_at=Subquery(last_attempt.values("started_at")[:1]),
                      final_report_status=Subquery(report.values("status")[:1]),
                      output_count=Subquery(outputs[:1]))
            .prefetch_related(
                Prefetch("application__resources", queryset=RequestedResource.objects.select_related("site")),
                Prefetch("application__assignments",
                         queryset=ReviewAssignment.objects.exclude(status=AssignmentStatus.CANCELLED)
                         .select_related("reviewer").order_by("assigned_at", "pk")),
                Prefetch("application__ethics_review__conditions", queryset=EthicsCondition.objects.order_by("pk")),
                Prefetch("application__allocation__quotas", queryset=AllocationQuota.objects.select_related("site")),
            )
            .order_by("decided_at", "pk"))


def _sla(decided_on: datetime.date, due: datetime.date | None) -> str:
    if due is None:
        return ""
    return "met" if decided_on <= due else "missed"


def _decision_row(decision: Decision) -> DecisionRow:
    app = decision.application
    assessment = getattr(app, "risk_assessment", None)
    review = getattr(app, "ethics_review", None)
    allocation = getattr(app, "allocation", None) if decision.outcome == DecisionOutcome.APPROVED else None
    conditions = list(review.conditions.all()) if review else []
    decided_on = _local_date(decision.decided_at)
    sla = _sla(decided_on, app.decision_due)
    risk = assessment.classification if assessment else ""
    last_outcome = (decision.last_sync_outcome or "") if allocation else ""
    return DecisionRow(
        decision_id=decision.pk, reference=app.reference, title=app.title, organisation=app.organisation.legal_name,
        sector=app.sector, sector_label=app.get_sector_display() if app.sector else "",
        access_mode=app.access_mode.code if app.access_mode else "",
        access_mode_label=app.access_mode.name if app.access_mode else "",
        decided_on=decided_on, decided_by=decision.decided_by.display_name,
        outcome=decision.outcome, outcome_label=decision.get_outcome_display(),
        risk_class=risk, risk_label=risk_class_label(risk),
        ethics_status=review.status if review else "",
        ethics_label=review.get_status_display() if review else _("No ethics review"),
        conditions_total=len(conditions), conditions_acknowledged=sum(1 for c in conditions if c.acknowledged_at),
        reviewers=[a.reviewer.display_name for a in app.assignments.all()],
        decision_due=app.decision_due, sla=sla, sla_label=SLA_LABELS[sla],
        sites=[r.site.name for r in app.resources.all()],
        granted_gpu_hours={q.site.name: q.gpu_hours for q in allocation.quotas.all()} if allocation else {},
        allocation_reference=allocation.reference if allocation else "",
        allocation_status_label=allocation.get_status_display() if allocation else "",
        sync_state=allocation.sync_state if allocation else "",
        sync_state_label=allocation.get_sync_state_display() if allocation else "",
        last_sync_outcome=last_outcome,
        last_sync_outcome_label=SyncOutcome(last_outcome).label if last_outcome else "",
        last_sync_at=decision.last_sync_at if allocation else None,
        final_report=(decision.final_report_status or "") if allocation else "",
        final_report_label=(FinalReportStatus(decision.final_report_status).label
                            if allocation and decision.final_report_status else ""),
        outputs=(decision.output_count or 0) if allocation else 0,
    )


def _totals(counter: Counter, labels: dict[str, Any], order: list[str], gpu: Counter | None = None) -> list[Total]:
    keys = [k for k in order if k in counter] + sorted(k for k in counter if k not in order)
    return [Total(key=k, label=labels.get(k, k), count=counter[k], gpu_hours=(gpu or Counter())[k]) for k in keys]


def _scoped(qs: QuerySet, filters: PeriodFilters, application: str) -> QuerySet:
    """The period report's filters (site, mode, sector) on rows reached through `application`."""
    if filters.site:
        qs = qs.filter(Exists(RequestedResource.objects.filter(application_id=OuterRef(f"{application}_id"),
                                                               site__code=filters.site)))
    if filters.access_mode:
        qs = qs.filter(**{f"{application}__access_mode__code": filters.access_mode})
    if filters.sector:
        qs = qs.filter(**{f"{application}__sector": filters.sector})
    return qs


def period_outcomes(filters: PeriodFilters, today: datetime.date | None = None) -> dict[str, Any]:
    """Final reports due in the period (received, overdue) and outputs recorded in it, by kind: two queries."""
    today = today or timezone.localdate()
    reports = _scoped(FinalReport.objects.filter(due_date__gte=filters.date_from, due_date__lte=filters.date_to),
                      filters, "allocation__application")
    counts = reports.aggregate(due=Count("pk"), received=Count("pk", filter=Q(submitted_at__isnull=False)),
                               overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, due_date__lt=today)))
    start, end = _day_bounds(filters.date_from, filters.date_to)
    outputs = _scoped(Output.objects.filter(recorded_at__gte=start, recorded_at__lt=end), filters,
                      "allocation__application")
    by_kind = Counter(dict(outputs.values_list("kind").annotate(n=Count("pk")).order_by()))
    return {"reports_due": counts["due"], "reports_received": counts["received"],
            "reports_overdue": counts["overdue"],
            "outputs_by_kind": [Total(key=k, label=OutputKind(k).label, count=by_kind[k])
                                for k in OutputKind.values if by_kind[k]]}


def period_data(filters: PeriodFilters, *, chain: ChainVerification | None = None) -> PeriodData:
    """Rows and totals for a period report: a constant number of queries (see tests/reports)."""
    rows, mode_rank = [], {}
    for decision in period_decisions(filters):
        rows.append(_decision_row(decision))
        mode = decision.application.access_mode
        if mode is not None:
            mode_rank[mode.code] = (mode.order, mode.name)
    by_outcome, by_risk, by_sector, by_site, by_mode = Counter(), Counter(), Counter(), Counter(), Counter()
    site_gpu: Counter = Counter()
    mode_labels: dict[str, str] = {}
    for row in rows:
        by_outcome[row.outcome] += 1
        by_risk[row.risk_class] += 1
        by_sector[row.sector] += 1
        by_mode[row.access_mode] += 1
        mode_labels[row.access_mode] = row.access_mode_label or str(_("No access mode"))
        for site in row.sites:
            by_site[site] += 1
        for site, gpu in row.granted_gpu_hours.items():
            site_gpu[site] += gpu
    sector_labels = {value: label for value, label in Sector.choices} | {"": _("No sector")}
    outcome_labels = dict(DecisionOutcome.choices)
    site_name = Site.objects.filter(code=filters.site).values_list("name", flat=True).first() if filters.site else ""
    mode_name = (AccessMode.objects.filter(code=filters.access_mode).values_list("name", flat=True).first()
                 if filters.access_mode else "")
    # Modes in their published order (Playground, Fast Lane, Large Scale).
    mode_order = sorted(mode_rank, key=mode_rank.get)
    return PeriodData(
        filters=filters, site_name=site_name or "", access_mode_name=mode_name or "",
        sector_label=sector_labels.get(filters.sector, filters.sector) if filters.sector else "",
        rows=rows,
        by_outcome=_totals(by_outcome, outcome_labels, list(DecisionOutcome.values)),
        by_risk=_totals(by_risk, RISK_LABELS, list(RISK_LABELS)),
        by_sector=_totals(by_sector, sector_labels, [*Sector.values, ""]),
        by_site=_totals(by_site, {}, sorted(by_site), site_gpu),
        by_mode=_totals(by_mode, mode_labels, mode_order),
        sla_met=sum(1 for r in rows if r.sla == "met"), sla_missed=sum(1 for r in rows if r.sla == "missed"),
        sla_none=sum(1 for r in rows if not r.sla),
        chain=chain if chain is not None else verify_chain(),
        **period_outcomes(filters),
    )


# --- application dossier ----------------------------------------------------------------------------


@dataclass
class AnswerLine:
    question: str
    article: str
    answer: str


@dataclass
class AssessmentView:
    ruleset_version: str
    ruleset_sha256: str
    ruleset_file_matches: bool | None  # None: that version's file is not available here
    classification: str
    classification_label: Any
    complete: bool
    prohibited: bool
    needs_ethics_review: bool
    answers: list[AnswerLine]
    conclusions: list[dict[str, Any]]
    obligations: list[dict[str, Any]]
    compute: dict[str, Any] | None


@dataclass
class UsageLine:
    site: str
    gpu_quota: int
    gpu_used: float
    cpu_quota: int
    cpu_used: float
    storage_tb: Any
    percent: float | None
    taken_at: datetime.datetime | None


@dataclass
class EventLine:
    seq: int
    created_at: datetime.datetime
    action: str
    action_label: Any
    object_type: str
    actor: str
    changes: dict[str, Any] | None
    hash: str

    @property
    def details(self) -> list[str]:
        """The changes in words, one line per field ("Status: In review → Awaiting decision")."""
        return change_lines(self.action, self.changes)


@dataclass
class ReviewLine:
    label: str
    reviewer: str
    kind_label: Any
    status_label: Any
    coi_declared_at: datetime.datetime | None
    coi_statement: str
    scores: dict[str, Any]
    score_rows: list[tuple[str, Any, int]]  # (criterion's label, score, scale), in the rubric's order
    weighted_score: Any
    recommendation_label: Any
    comments_for_committee: str
    comments_for_applicant: str
    submitted_at: datetime.datetime | None


@dataclass
class DossierData:
    application: Application
    audience: str
    assessment: AssessmentView | None
    ethics: Any  # EthicsReview | None
    conditions: list[EthicsCondition]
    reviews: list[ReviewLine]
    conflicts: list[ConflictDeclaration]
    decisions: list[Decision]
    allocation: Allocation | None
    quotas: list[AllocationQuota]
    usage: list[UsageLine]
    attempts: list[SyncAttempt]
    events: list[EventLine]
    chain: ChainVerification
    generated_at: datetime.datetime = field(default_factory=timezone.now)
    final_report: FinalReport | None = None
    outputs: list[Output] = field(default_factory=list)

    @property
    def staff(self) -> bool:
        return self.audience == ReportAudience.STAFF


def localised_assessment(assessment, language: str) -> AssessmentView:
    """The stored result, with texts in `language` taken from the same rule-set file (checked by SHA-256).

    The stored result stays the record; only the wording is looked up again, and only from the very file
    the assessment was made with. If that file is not here (or differs), the stored wording is printed."""
    result = assessment.result or {}
    language = language if language in engine.LANGUAGES else "en"
    ruleset = None
    try:
        candidate = engine.load_ruleset(assessment.ruleset_version)
    except engine.RuleSetError:
        candidate = None
    matches = None if candidate is None else candidate.sha256 == assessment.ruleset_sha256
    if matches:
        ruleset = candidate
    # Each text carries its language: the reader's once worded again, else the stored result's.
    stored = result.get("language") or "en"
    conclusions = [dict(c, language=stored) for c in result.get("conclusions", [])]
    obligations = [dict(o, language=stored) for o in result.get("obligations", [])]
    answers: list[AnswerLine] = []
    if ruleset is not None:
        rules = {r.code: r for r in ruleset.rules}
        duties = {o.code: o for o in ruleset.obligations}
        for c in conclusions:
            if c.get("code") in rules:
                c["title"] = rules[c["code"]].title[language]
                c["rationale"] = rules[c["code"]].rationale[language]
                c["language"] = language
        for o in obligations:
            if o.get("code") in duties:
                o["text"] = duties[o["code"]].text[language]
                o["language"] = language
        for question in ruleset.questions:
            if question.id not in (assessment.answers or {}):
                continue
            value = assessment.answers[question.id]
            labels = {opt.value: opt.label[language] for opt in question.options}
            values = value if isinstance(value, list) else [value]
            answers.append(AnswerLine(question=question.text[language], article=question.article,
                                      answer="; ".join(labels.get(v, str(v)) for v in values)))
    else:
        for qid, value in sorted((assessment.answers or {}).items()):
            answers.append(AnswerLine(question=qid, article="",
                                      answer="; ".join(map(str, value)) if isinstance(value, list) else str(value)))
    for o in obligations:
        if o.get("applies_from"):
            try:
                o["applies_from_date"] = datetime.date.fromisoformat(o["applies_from"])
            except ValueError:
                o["applies_from_date"] = None
    return AssessmentView(
        ruleset_version=assessment.ruleset_version, ruleset_sha256=assessment.ruleset_sha256,
        ruleset_file_matches=matches, classification=assessment.classification,
        classification_label=risk_class_label(assessment.classification), complete=assessment.complete,
        prohibited=assessment.prohibited, needs_ethics_review=assessment.needs_ethics_review,
        answers=answers, conclusions=conclusions, obligations=obligations, compute=result.get("compute"),
    )


def dossier_application(application_id: int) -> Application:
    return (Application.objects.filter(pk=application_id)
            .select_related("organisation", "access_mode", "call", "created_by", "risk_assessment",
                            "ethics_review__decided_by", "allocation", "allocation__final_report")
            .prefetch_related(
                Prefetch("resources", queryset=RequestedResource.objects.select_related("site")),
                "team", "attachments",
                Prefetch("ethics_review__conditions",
                         queryset=EthicsCondition.objects.select_related("acknowledged_by").order_by("pk")),
                Prefetch("assignments", queryset=ReviewAssignment.objects.exclude(status=AssignmentStatus.CANCELLED)
                         .select_related("reviewer", "review").order_by("kind", "assigned_at", "pk")),
                Prefetch("decisions", queryset=Decision.objects.select_related("decided_by").order_by("decided_at")),
                Prefetch("allocation__quotas", queryset=AllocationQuota.objects.select_related("site")
                         .order_by("site__name")),
                Prefetch("allocation__sync_attempts", queryset=SyncAttempt.objects.select_related("site")
                         .order_by("started_at", "pk")),
                Prefetch("allocation__outputs", queryset=Output.objects.order_by("recorded_at", "pk")),
            )
            .get())


def _review_lines(app: Application, *, staff: bool) -> list[ReviewLine]:
    if not staff and app.status in REVIEWS_HIDDEN_FROM_APPLICANT:
        return []
    lines, counters = [], Counter()
    rubric = (app.access_mode.rubric if app.access_mode else None) or []
    for a in app.assignments.all():
        review = getattr(a, "review", None)
        if not staff and review is None:
            continue  # the applicant sees submitted reviews only, anonymously
        kind = a.get_kind_display()
        counters[kind] += 1
        lines.append(ReviewLine(
            label=f"{kind} {counters[kind]}", reviewer=a.reviewer.display_name if staff else "",
            kind_label=kind, status_label=a.get_status_display() if staff else "",
            coi_declared_at=a.coi_declared_at if staff else None, coi_statement=a.coi_statement if staff else "",
            scores=dict(review.scores) if review and staff else {},
            score_rows=score_rows(rubric, review.scores) if review and staff else [],
            weighted_score=review.weighted_score if review and staff else None,
            recommendation_label=review.get_recommendation_display() if review and staff else "",
            comments_for_committee=review.comments_for_committee if review and staff else "",
            comments_for_applicant=review.comments_for_applicant if review else "",
            submitted_at=review.submitted_at if review else None,
        ))
    return lines


def _usage_lines(allocation: Allocation | None, quotas: list[AllocationQuota]) -> list[UsageLine]:
    if allocation is None:
        return []
    latest_per_site = (UsageSnapshot.objects.filter(allocation=allocation, site_id=OuterRef("site_id"))
                       .order_by("-taken_at", "-pk").values("pk")[:1])
    latest = {s.site_id: s for s in UsageSnapshot.objects.filter(allocation=allocation,
                                                                 pk=Subquery(latest_per_site))}
    lines = []
    for q in quotas:
        snap = latest.get(q.site_id)
        gpu_used = snap.gpu_minutes / 60 if snap else 0.0
        cpu_used = snap.cpu_minutes / 60 if snap else 0.0
        fractions = [used / quota for used, quota in ((gpu_used, q.gpu_hours), (cpu_used, q.cpu_core_hours)) if quota]
        lines.append(UsageLine(site=q.site.name, gpu_quota=q.gpu_hours, gpu_used=gpu_used,
                               cpu_quota=q.cpu_core_hours, cpu_used=cpu_used, storage_tb=q.storage_tb,
                               percent=round(max(fractions) * 100, 1) if fractions and snap else None,
                               taken_at=snap.taken_at if snap else None))
    return lines


def _event_lines(app: Application, allocation: Allocation | None, *, staff: bool) -> list[EventLine]:
    events = events_for(app)
    if allocation is not None:
        events = events | events_for(allocation)
    member_ids = set() if staff else set(
        Membership.objects.filter(organisation_id=app.organisation_id).values_list("user_id", flat=True))
    lines = []
    for e in events.select_related("actor").order_by("seq"):
        if e.actor is None:
            actor = str(_("the portal"))
        elif staff or e.actor_id in member_ids:
            actor = e.actor.display_name
        else:
            actor = str(_("AI Factory staff"))
        hide = not staff and e.action.startswith(STAFF_ONLY_EVENT_PREFIXES)
        lines.append(EventLine(seq=e.seq, created_at=e.created_at, action=e.action,
                               action_label=action_label(e.action), object_type=e.object_type,
                               actor=actor, changes=None if hide else e.changes, hash=e.hash))
    return lines


def dossier_data(application_id: int, *, audience: str, language: str = "en",
                 chain: ChainVerification | None = None) -> DossierData:
    """Everything one application's dossier prints; staff-only parts are left out for the applicant."""
    staff = audience == ReportAudience.STAFF
    app = dossier_application(application_id)
    assessment = getattr(app, "risk_assessment", None)
    ethics = getattr(app, "ethics_review", None)
    if ethics is not None:
        ethics.trigger_lines = trigger_lines(ethics, language)  # worded in the report's language
    allocation = getattr(app, "allocation", None)
    quotas = list(allocation.quotas.all()) if allocation else []
    conflicts = []
    if staff:
        # Standing declarations of ties to this organisation (the per-assignment ones are in `reviews`).
        conflicts = list(ConflictDeclaration.objects.filter(organisation_id=app.organisation_id)
                         .select_related("reviewer").order_by("declared_at", "pk"))
    return DossierData(
        application=app, audience=audience,
        assessment=localised_assessment(assessment, language) if assessment else None,
        ethics=ethics, conditions=list(ethics.conditions.all()) if ethics else [],
        reviews=_review_lines(app, staff=staff), conflicts=conflicts,
        decisions=list(app.decisions.all()), allocation=allocation, quotas=quotas,
        usage=_usage_lines(allocation, quotas),
        attempts=list(allocation.sync_attempts.all()) if allocation else [],
        events=_event_lines(app, allocation, staff=staff),
        chain=chain if chain is not None else verify_chain(),
        final_report=getattr(allocation, "final_report", None) if allocation else None,
        outputs=list(allocation.outputs.all()) if allocation else [],
    )
