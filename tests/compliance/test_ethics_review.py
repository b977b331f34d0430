"""The ethics track: triggers, automatic clearance, decisions, conditions, and the approval gate."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from allocations.applications.models import Application, ApplicationStatus
from allocations.catalogue.models import AccessMode
from compliance import selectors, services
from compliance.models import EthicsReview, EthicsStatus, RiskAssessment
from portal.models import AuditEvent
from tests.factories import (
    AllocationManagerFactory,
    EthicsOfficerFactory,
    MembershipFactory,
    OrganisationFactory,
    ReviewerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def make_application(*, sector="manufacturing", dual_use=False, civilian=True, ethics_yes=(), classification="minimal",
                     needs_review=False, prohibited=False, status=ApplicationStatus.SUBMITTED):
    org = OrganisationFactory()
    applicant = UserFactory()
    MembershipFactory(user=applicant, organisation=org)
    issues = {code: {"answer": code in ethics_yes, "text": "handled" if code in ethics_yes else ""}
              for code in ["human_participants", "personal_data", "animals", "non_eu_countries", "environment_safety",
                           "artificial_intelligence", "dual_use", "misuse", "other"]}
    app = Application.objects.create(
        reference=f"AIF-2026-{Application.objects.count() + 1:04d}", organisation=org, created_by=applicant,
        title="Vision model", sector=sector, dual_use=dual_use, civilian_purpose=civilian, ethics_issues=issues,
        status=status, access_mode=AccessMode.objects.get(code="fast_lane"),
        start_date=datetime.date.today() + datetime.timedelta(days=10), duration_months=2)
    conclusions = [{"code": f"{classification}_rule", "title": classification, "article": "Art. 6(2)", "url": "",
                    "rationale": "test"}] if needs_review else []
    RiskAssessment.objects.create(
        application=app, ruleset_version="2026-omnibus", ruleset_sha256="0" * 64, answers={},
        result={"classification": classification, "flags": {"needs_ethics_review": needs_review,
                                                             "prohibited": prohibited},
                "conclusions": conclusions, "obligations": []},
        classification=classification, needs_ethics_review=needs_review, prohibited=prohibited, complete=True)
    return app, applicant


@pytest.mark.parametrize("kwargs, expected_code", [
    ({"sector": "defence"}, "sector:defence"),
    ({"sector": "security"}, "sector:security"),
    ({"dual_use": True}, "dual_use"),
    ({"civilian": False}, "not_civilian"),
    ({"ethics_yes": ["personal_data"]}, "ethics_issue:personal_data"),
    ({"classification": "high_risk", "needs_review": True}, "ai_act:high_risk_rule"),
    ({"classification": "gpai", "needs_review": True}, "ai_act:gpai_rule"),
])
def test_triggers_queue_the_application_for_an_ethics_officer(kwargs, expected_code):
    app, _ = make_application(**kwargs)
    review = services.ethics_review_open(application=app)
    assert review.status == EthicsStatus.PENDING
    assert expected_code in [t["code"] for t in review.triggers]
    assert all(t["rule"] for t in review.triggers), "every trigger cites the rule it comes from"
    assert app.reference in [r.application.reference for r in selectors.ethics_pending()]


def test_without_triggers_the_clearance_is_automatic_and_cites_the_rule():
    app, _ = make_application()
    review = services.ethics_review_open(application=app)
    assert review.status == EthicsStatus.AUTO_CLEARED
    assert "automatic clearance" in review.reasons
    event = AuditEvent.objects.filter(action="ethics_review.auto_cleared", object_id=str(app.pk)).get()
    assert event.changes["status"] == EthicsStatus.AUTO_CLEARED
    assert services.approval_blockers(app) == []


def test_only_ethics_officers_decide():
    app, applicant = make_application(sector="defence")
    services.ethics_review_open(application=app)
    for outsider in (applicant, ReviewerFactory(), AllocationManagerFactory()):
        with pytest.raises(PermissionDenied):
            services.ethics_decide(actor=outsider, application=app, status=EthicsStatus.CLEARED)
    assert EthicsReview.objects.get(application=app).status == EthicsStatus.PENDING


@pytest.mark.parametrize("status, reasons, conditions, field", [
    (EthicsStatus.CLEARED_WITH_CONDITIONS, "", [], "conditions"),
    (EthicsStatus.REFUSED, "", [], "reasons"),
    (EthicsStatus.CLEARED, "", ["a condition"], "conditions"),
])
def test_decision_input_errors_change_nothing(status, reasons, conditions, field):
    app, _ = make_application(sector="defence")
    services.ethics_review_open(application=app)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.ethics_decide(actor=EthicsOfficerFactory(), application=app, status=status, reasons=reasons,
                               conditions=conditions)
    assert field in exc.value.message_dict
    assert EthicsReview.objects.get(application=app).status == EthicsStatus.PENDING
    assert AuditEvent.objects.count() == before


def test_cleared_with_conditions_then_the_applicant_acknowledges_each():
    app, applicant = make_application(ethics_yes=["personal_data"])
    services.ethics_review_open(application=app)
    officer = EthicsOfficerFactory()
    review = services.ethics_decide(actor=officer, application=app, status=EthicsStatus.CLEARED_WITH_CONDITIONS,
                                    conditions=["Publish a DPIA before training", "Delete raw images after training"])
    assert review.is_cleared
    assert services.conditions_outstanding(app) == 2
    assert services.approval_blockers(app) == []  # conditions gate the start, not the decision
    first, second = review.conditions.all()
    with pytest.raises(PermissionDenied):
        services.condition_acknowledge(actor=UserFactory(), condition=first)
    services.condition_acknowledge(actor=applicant, condition=first)
    services.condition_acknowledge(actor=applicant, condition=first)  # idempotent
    assert services.conditions_outstanding(app) == 1
    services.condition_acknowledge(actor=applicant, condition=second)
    assert services.conditions_outstanding(app) == 0
    actions = list(AuditEvent.objects.filter(object_id=str(app.pk)).values_list("action", flat=True))
    assert actions.count("ethics_condition.acknowledged") == 2
    assert "ethics_review.decided" in actions


def test_a_prohibited_practice_can_only_be_refused_and_never_approved():
    app, _ = make_application(classification="prohibited", needs_review=True, prohibited=True)
    services.ethics_review_open(application=app)
    officer = EthicsOfficerFactory()
    with pytest.raises(ValidationError):
        services.ethics_decide(actor=officer, application=app, status=EthicsStatus.CLEARED)
    services.ethics_decide(actor=officer, application=app, status=EthicsStatus.REFUSED, reasons="Art. 5(1)(c)")
    blockers = services.approval_blockers(app)
    assert any("prohibited" in b for b in blockers)
    assert any("refused" in b for b in blockers)


def test_pending_ethics_blocks_approval_in_the_approval_service():
    from allocations.review.services import application_approve

    app, _ = make_application(sector="security", status=ApplicationStatus.AWAITING_DECISION)
    services.ethics_review_open(application=app)
    with pytest.raises(ValidationError) as exc:
        application_approve(actor=AllocationManagerFactory(), application=app, quotas={})
    assert "ethics review has not cleared" in " ".join(exc.value.messages)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION
    from allocations.grants.models import Allocation

    assert not Allocation.objects.filter(application=app).exists()


def test_ethics_pages_are_for_ethics_officers_only(client):
    app, applicant = make_application(sector="defence")
    services.ethics_review_open(application=app)
    queue = reverse("compliance:ethics_queue")
    detail = reverse("compliance:ethics_review", args=[app.reference])
    for user in (applicant, ReviewerFactory(totp=True), AllocationManagerFactory(totp=True)):
        client.force_login(user)
        assert client.get(queue).status_code == 403
        assert client.get(detail).status_code == 403
    client.force_login(EthicsOfficerFactory(totp=False))
    assert client.get(queue).url == reverse("mfa_index"), "no second factor yet: sent to add one"
    officer = EthicsOfficerFactory(totp=True)
    client.force_login(officer)
    page = client.get(queue)
    assert page.status_code == 200
    assert app.reference in page.content.decode()
    assert client.get(reverse("compliance:ethics_review", args=["AIF-1999-9999"])).status_code == 404
    bad = client.post(detail, {"status": EthicsStatus.CLEARED_WITH_CONDITIONS, "conditions": ""})
    assert bad.status_code == 200
    assert "State at least one condition" in bad.content.decode()
    ok = client.post(detail, {"status": EthicsStatus.CLEARED_WITH_CONDITIONS, "conditions": "No export\nAudit logs"})
    assert ok.status_code == 302
    review = EthicsReview.objects.get(application=app)
    assert review.status == EthicsStatus.CLEARED_WITH_CONDITIONS
    assert [c.text for c in review.conditions.all()] == ["No export", "Audit logs"]
