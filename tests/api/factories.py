"""Builders for the API tests. Applications are written through the same services the API calls;
allocations and usage rows are written directly (provisioning is not what these tests are about)."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from accounts.models import ApiTokenScope, Membership, MembershipRole
from accounts.services import api_token_create
from allocations.applications import services as applications_services
from allocations.applications.models import Application, ApplicationStatus, EthicsIssue
from allocations.catalogue.models import AccessMode, Site, SiteCapacity, quarter_start
from allocations.grants.models import Allocation, AllocationQuota, AllocationStatus, SyncState
from allocations.grants.services import slurm_account_for
from allocations.provisioning.models import SyncAttempt, SyncOutcome, UsageSnapshot
from allocations.review import services as review_services
from allocations.review.models import ReviewerPool
from compliance.ai_act import engine
from compliance.services import assessment_save
from tests import factories as shared

_seq = itertools.count(1)
READ_WRITE = [ApiTokenScope.READ, ApiTokenScope.WRITE]


def token(user, scopes=READ_WRITE, name: str = "ci") -> str:
    """A token's secret for `user`, created through the service (as /me/tokens/ does)."""
    return api_token_create(actor=user, name=name, scopes=list(scopes))[1]


def auth(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}


def applicant(organisation=None, *, owner: bool = True):
    n = next(_seq)
    organisation = organisation or shared.OrganisationFactory()
    user = shared.UserFactory(email=f"api-applicant{n}@org{organisation.pk}.example.com")
    Membership.objects.create(user=user, organisation=organisation,
                              role=MembershipRole.OWNER if owner else MembershipRole.MEMBER)
    return user


def manager():
    n = next(_seq)
    return shared.AllocationManagerFactory(email=f"api-manager{n}@aif.example.be", totp=True)


def reviewer(kind: str = "technical"):
    n = next(_seq)
    person = shared.ReviewerFactory(email=f"api-reviewer{n}@institute{n}.example.org", totp=True)
    ReviewerPool.objects.get_or_create(name=f"General {kind}", defaults={"kind": kind})[0].members.add(person)
    return person


def publish_capacity(gpu_hours: int = 400_000) -> None:
    day = quarter_start(timezone.localdate())
    for _ in range(5):
        for site in Site.objects.all():
            SiteCapacity.objects.update_or_create(site=site, period_start=day, defaults={
                "gpu_hours": gpu_hours, "cpu_core_hours": 4_000_000, "storage_tb": Decimal("500")})
        month = day.month + 3
        day = datetime.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def minimal_ai_act_answers(ruleset_version: str = engine.DEFAULT_RULESET) -> dict:
    """A complete answer set found by walking the visible questions, answering no / none where offered."""
    ruleset = engine.load_ruleset(ruleset_version)
    answers: dict = {}
    for _ in range(len(ruleset.questions) + 1):
        missing = engine.missing_answers(ruleset, answers)
        if not missing:
            return answers
        question = ruleset.question(missing[0])
        values = question.option_values
        preferred = next((v for v in ("no", "none") if v in values), values[0])
        answers[question.id] = [preferred] if question.type == engine.QuestionType.MULTI_CHOICE else preferred
    raise AssertionError("the questionnaire did not converge")


ETHICS_ALL_NO = {code: {"answer": False, "text": ""} for code in EthicsIssue.values}
PROJECT = {
    "title": "Vision models for hospital logistics", "abstract": "We fine-tune a vision model.",
    "public_summary": "Better hospital logistics.", "sector": "health", "civilian_purpose": True, "dual_use": False,
    "dual_use_explanation": "", "rd_type": "open", "route_to_market": "",
}
MODEL = {"model_activity": "fine_tune", "model_family": "ViT", "parameter_count": 300_000_000,
         "training_tokens": 2_000_000_000, "base_model_name": "ViT-L/16", "open_weights": True}


def draft(user, organisation=None, title: str = "Vision models") -> Application:
    organisation = organisation or Membership.objects.filter(user=user).first().organisation
    return applications_services.application_create(actor=user, organisation=organisation, title=title)


def complete(user, organisation=None, gpu_hours: int = 10_000) -> Application:
    app = draft(user, organisation)
    applications_services.application_update_step(actor=user, application=app, step="project", data=PROJECT)
    applications_services.application_save_resources(
        actor=user, application=app,
        data={"access_mode": AccessMode.objects.get(code="fast_lane"),
              "start_date": timezone.localdate() + datetime.timedelta(days=14), "duration_months": 3},
        rows=[{"site": Site.objects.get(code="zellik"), "gpu_hours": gpu_hours, "cpu_core_hours": 1000,
               "storage_tb": Decimal("1")}])
    applications_services.application_update_step(actor=user, application=app, step="model", data=MODEL)
    assessment_save(actor=user, application=app, answers=minimal_ai_act_answers())
    applications_services.team_member_add(
        actor=user, application=app, full_name="Ines Engineer", email="ines@example.eu", cluster_username="ines"
    )
    applications_services.application_set_ethics_issues(actor=user, application=app, issues=ETHICS_ALL_NO)
    return Application.objects.get(pk=app.pk)


def submitted(user, organisation=None) -> Application:
    return applications_services.application_submit(actor=user, application=complete(user, organisation))


def in_review(user, boss, organisation=None) -> Application:
    app = submitted(user, organisation)
    return review_services.application_check_eligibility(actor=boss, application=app, eligible=True)


def awaiting_decision(user, boss, organisation=None) -> Application:
    app = in_review(user, boss, organisation)
    person = reviewer()
    assignment = review_services.reviewer_assign(actor=boss, application=app, reviewer=person, kind="technical")
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    scores = {c["code"]: 4 for c in app.access_mode.rubric}
    review_services.review_submit(actor=person, assignment=assignment, scores=scores, recommendation="approve")
    return Application.objects.get(pk=app.pk)


def allocation(organisation, creator, *, status: str = AllocationStatus.ACTIVE, usage: bool = True) -> Allocation:
    """An allocation written directly, with an approved application behind it, a sync attempt and usage."""
    from allocations.applications.services import next_application_reference

    today = timezone.localdate()
    app = Application.objects.create(
        reference=next_application_reference(),
        organisation=organisation,
        created_by=creator,
        status=ApplicationStatus.APPROVED,
        title="Granted",
        start_date=today,
        duration_months=3,
    )
    alloc = Allocation.objects.create(
        application=app,
        organisation=organisation,
        reference=app.reference,
        status=status,
        start_date=today,
        end_date=today + datetime.timedelta(days=90),
        slurm_account=slurm_account_for(app.reference),
        sync_state=SyncState.IN_SYNC,
    )
    zellik = Site.objects.get(code="zellik")
    AllocationQuota.objects.create(allocation=alloc, site=zellik, gpu_hours=1000, cpu_core_hours=500)
    if usage:
        for minutes in (600, 1200):
            UsageSnapshot.objects.create(allocation=alloc, site=zellik, gpu_minutes=minutes, cpu_minutes=minutes)
        SyncAttempt.objects.create(site=zellik, allocation=alloc, outcome=SyncOutcome.ERROR, error="timeout")
        SyncAttempt.objects.create(site=zellik, allocation=alloc, outcome=SyncOutcome.SUCCESS)
    return alloc
