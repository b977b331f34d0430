"""Report test data, built through the real services (assessment, ethics, reviews, approval, provisioning)."""

from __future__ import annotations

import datetime
import itertools

from django.utils import timezone

from accounts.models import Organisation
from allocations.applications.models import Application, ApplicationStatus
from allocations.catalogue.models import AccessMode, Site
from allocations.provisioning.models import UsageSnapshot
from allocations.provisioning.services import sync_allocation
from allocations.review.models import ConflictDeclaration, Decision, DecisionOutcome, ReviewerPool
from allocations.review.services import application_approve, review_submit, reviewer_assign, reviewer_declare
from compliance import services as compliance_services
from compliance.ai_act import engine
from compliance.models import EthicsStatus, Report, RiskAssessment
from compliance.reports import services as report_services

from .accounts import (
    AllocationManagerFactory,
    EthicsOfficerFactory,
    MembershipFactory,
    OrganisationFactory,
    ReviewerFactory,
    UserFactory,
)
from .catalogue import ensure_capacity
from .grants import approved_allocation

# In scope, recruitment (AI Act Annex III, point 4(a)), by its provider: high risk.
HIGH_RISK_ANSWERS = {
    "research_only": "no", "pre_market_rnd": "no", "military_only": "no", "union_link": ["placed_in_union"],
    "operator_role": ["provider"], "prohibited_practices": ["none"], "intimate_imagery": "no",
    "annex_i_product": "no", "annex_iii_areas": ["employment"], "annex_iii_4_employment": ["recruitment"],
    "derogation_conditions": ["none"], "interacts_with_persons": "no", "synthetic_content": ["none"],
    "emotion_biometric_exposure": "no", "public_disclosure": ["none"], "open_source_system": "no",
    "trains_model": "no",
}
REVIEWER_NAME = "Rita Reviewerova"
CONFLICTED_NAME = "Conrad Conflictson"
COMMITTEE_COMMENT = "COMMITTEE-ONLY remark: the team lead is strong"
APPLICANT_COMMENT = "The requested GPU-hours are well justified"
CONDITION = "Publish a bias audit of the ranking model before any deployment"
_refs = itertools.count(1)


def store_assessment(app: Application, answers: dict | None = None, version: str = engine.DEFAULT_RULESET):
    ruleset = engine.load_ruleset(version)
    cleaned = engine.clean_answers(ruleset, answers or HIGH_RISK_ANSWERS)
    result = engine.classify(ruleset, cleaned, compliance_services.compute_for_application(app),
                             facts=compliance_services.facts_for_application(app)).to_dict()
    return RiskAssessment.objects.update_or_create(application=app, defaults={
        "ruleset_version": ruleset.version, "ruleset_sha256": ruleset.sha256, "answers": cleaned, "result": result,
        "classification": result["classification"], "needs_ethics_review": result["flags"]["needs_ethics_review"],
        "prohibited": result["flags"]["prohibited"], "complete": True})[0]


def full_dossier(*, sector: str = "health", provision: bool = True):
    """A high-risk application reviewed, cleared with a condition (acknowledged), approved on both sites,
    provisioned through the record backend, with a usage snapshot. Returns a dict of the actors and objects."""
    start = timezone.localdate() + datetime.timedelta(days=3)
    ensure_capacity(start)
    org = OrganisationFactory(legal_name=f"Recruit Vision {next(_refs)} BV")
    applicant = UserFactory(full_name="Ada Applicant")
    MembershipFactory(user=applicant, organisation=org)
    n = Application.objects.count() + 1
    app = Application.objects.create(
        reference=f"AIF-2026-{7000 + n:04d}", organisation=org, created_by=applicant, title="Fair ranking of CVs",
        status=ApplicationStatus.IN_REVIEW, sector=sector, access_mode=AccessMode.objects.get(code="fast_lane"),
        start_date=start, duration_months=2, submitted_at=timezone.now(),
        decision_due=timezone.localdate() + datetime.timedelta(days=6))
    for code, gpu in (("zellik", 400), ("charleroi", 200)):
        app.resources.create(site=Site.objects.get(code=code), gpu_hours=gpu, cpu_core_hours=4000)
    store_assessment(app)
    officer = EthicsOfficerFactory(full_name="Eve Ethicist")
    compliance_services.ethics_review_open(application=app)
    review = compliance_services.ethics_decide(actor=officer, application=app,
                                               status=EthicsStatus.CLEARED_WITH_CONDITIONS,
                                               reasons="Recruitment is an Annex III area.", conditions=[CONDITION])
    compliance_services.condition_acknowledge(actor=applicant, condition=review.conditions.get())
    manager = AllocationManagerFactory(full_name="Max Manager")
    reviewer = ReviewerFactory(full_name=REVIEWER_NAME, email=f"rita{n}@review-panel.example")
    pool, _ = ReviewerPool.objects.get_or_create(name="General technical", defaults={"kind": "technical"})
    pool.members.add(reviewer)
    assignment = reviewer_assign(actor=manager, application=app, reviewer=reviewer, kind="technical")
    reviewer_declare(actor=reviewer, assignment=assignment, has_conflict=False)
    review_submit(actor=reviewer, assignment=assignment, scores={"feasibility": 4, "resources": 5, "team": 3},
                  recommendation="approve", comments_for_committee=COMMITTEE_COMMENT,
                  comments_for_applicant=APPLICANT_COMMENT)
    conflicted = ReviewerFactory(full_name=CONFLICTED_NAME, email=f"conrad{n}@review-panel.example")
    ConflictDeclaration.objects.create(reviewer=conflicted, organisation=org, statement="Former adviser")
    app.refresh_from_db()
    quotas = {r.site_id: {"gpu_hours": r.gpu_hours, "cpu_core_hours": r.cpu_core_hours} for r in app.resources.all()}
    allocation = application_approve(actor=manager, application=app, quotas=quotas, reasons="Sound plan.")
    if provision:
        sync_allocation(allocation_id=allocation.pk)
        UsageSnapshot.objects.create(allocation=allocation, site=Site.objects.get(code="zellik"),
                                     gpu_minutes=120 * 60, cpu_minutes=1000 * 60)
    return {"application": app, "allocation": allocation, "applicant": applicant, "officer": officer,
            "manager": manager, "reviewer": reviewer, "organisation": org}


def decisions(count: int, *, manager=None, decided_at: datetime.datetime | None = None):
    """`count` approved allocations (with their decisions) through the provisioning builder."""
    manager = manager or AllocationManagerFactory()
    made = []
    for _ in range(count):
        allocation, manager, _applicant = approved_allocation(manager=manager)
        made.append(allocation)
    if decided_at is not None:
        Decision.objects.filter(application__allocation__in=made).update(decided_at=decided_at)
    return made


def rejected_decision(*, manager, sector="defence", reasons="Out of scope") -> Decision:
    org: Organisation = OrganisationFactory()
    applicant = UserFactory()
    MembershipFactory(user=applicant, organisation=org)
    app = Application.objects.create(
        reference=f"AIF-2026-{8000 + Application.objects.count() + 1:04d}", organisation=org, created_by=applicant,
        title="=HYPERLINK(\"http://evil.example\")", sector=sector, status=ApplicationStatus.AWAITING_DECISION,
        access_mode=AccessMode.objects.get(code="playground"), start_date=timezone.localdate(), duration_months=1,
        decision_due=timezone.localdate() - datetime.timedelta(days=1))
    RiskAssessment.objects.create(application=app, ruleset_version="2026-omnibus", ruleset_sha256="0" * 64,
                                  result={"classification": "high_risk"}, classification="high_risk", complete=True)
    from allocations.review.services import application_reject

    application_reject(actor=manager, application=app, reasons=reasons)
    return Decision.objects.get(application=app, outcome=DecisionOutcome.REJECTED)


def queued_period_report() -> Report:
    """A period report of today, requested by an ethics officer and still queued.

    Without run_on_commit the on_commit enqueue never fires in a test transaction: the report stays queued."""
    today = timezone.localdate()
    return report_services.report_request_period(actor=EthicsOfficerFactory(), date_from=today, date_to=today,
                                                 language="en")
