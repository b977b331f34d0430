"""From grant to first job: conditions that ask for evidence (upload, accept, reject; the allocation starts
only when every condition is met), team members who have not confirmed (resend, rate-limited; a person
adding themself is confirmed at once), and the dashboard's next step per grant."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, NotificationKind
from allocations.applications import services as application_services
from allocations.applications.models import ApplicationStatus, Attachment, AttachmentKind, TeamMember
from allocations.grants import services as grant_services
from allocations.grants.models import AllocationStatus
from allocations.grants.next_steps import _PROVIDERS, NextStep, next_steps, register_next_step
from compliance import services as compliance_services
from compliance.models import EthicsCondition, EthicsStatus, EvidenceStatus
from portal.models import AuditEvent, OutgoingEmail
from tests import factories as f

pytestmark = pytest.mark.django_db

DPIA = "Share the summary of the data protection impact assessment."


@pytest.fixture
def granted():
    """An approved allocation whose start date has come, with one condition asking for evidence."""
    allocation, manager, applicant = f.approved_allocation()
    review = allocation.application.ethics_review
    review.status = EthicsStatus.CLEARED_WITH_CONDITIONS
    review.save(update_fields=["status"])
    condition = EthicsCondition.objects.create(review=review, text=DPIA, evidence_status=EvidenceStatus.MISSING)
    return allocation, applicant, condition


def upload(allocation, applicant, condition, content=None):
    return grant_services.condition_evidence_submit(
        actor=applicant, allocation=allocation, condition=condition,
        upload=f.file_upload("dpia-summary.pdf", content if content is not None else f.pdf_bytes()))


def test_ethics_officer_decides_conditions_that_ask_for_evidence():
    app = f.application(status=ApplicationStatus.IN_REVIEW, ethics=EthicsStatus.PENDING)
    officer = f.EthicsOfficerFactory()
    compliance_services.ethics_decide(actor=officer, application=app, status=EthicsStatus.CLEARED_WITH_CONDITIONS,
                                      conditions=["Delete the raw images."], evidence_conditions=[DPIA])
    plain, evidence = EthicsCondition.objects.filter(review__application=app).order_by("pk")
    assert (plain.evidence_status, evidence.evidence_status) == (EvidenceStatus.NOT_REQUIRED, EvidenceStatus.MISSING)
    assert compliance_services.conditions_outstanding(app) == 2


def test_the_allocation_starts_only_when_the_evidence_is_accepted(granted):
    allocation, applicant, condition = granted
    officer = f.EthicsOfficerFactory()
    compliance_services.condition_acknowledge(actor=applicant, condition=condition)
    today = allocation.start_date
    assert grant_services.allocation_start_if_due(allocation=allocation,
                                                  today=today).status == AllocationStatus.APPROVED
    upload(allocation, applicant, condition)
    condition.refresh_from_db()
    assert condition.evidence_status == EvidenceStatus.SUBMITTED
    assert condition.evidence.kind == AttachmentKind.CONDITION_EVIDENCE
    assert Notification.objects.filter(recipient=officer, kind=NotificationKind.EVIDENCE_SUBMITTED).exists()
    assert grant_services.allocation_start_if_due(allocation=allocation,
                                                  today=today).status == AllocationStatus.APPROVED
    with pytest.raises(ValidationError) as refused:
        compliance_services.condition_evidence_decide(actor=officer, condition=condition, accept=False, comment="")
    assert "comment" in refused.value.error_dict
    compliance_services.condition_evidence_decide(actor=officer, condition=condition, accept=False,
                                                  comment="Page 2 is missing.")
    condition.refresh_from_db()
    assert condition.evidence_status == EvidenceStatus.REJECTED and condition.needs_evidence
    assert Notification.objects.get(recipient=applicant, kind=NotificationKind.EVIDENCE_DECIDED).text.endswith(
        "Page 2 is missing.")
    upload(allocation, applicant, condition)
    compliance_services.condition_evidence_decide(actor=officer, condition=condition, accept=True)
    condition.refresh_from_db()
    assert condition.is_met and condition.evidence_decided_by == officer
    assert grant_services.allocation_start_if_due(allocation=allocation, today=today).status == \
        AllocationStatus.PROVISIONING
    actions = list(AuditEvent.objects.filter(action__startswith="ethics_condition.").values_list("action", flat=True))
    assert actions == ["ethics_condition.acknowledged", "ethics_condition.evidence_submitted",
                       "ethics_condition.evidence_decided", "ethics_condition.evidence_submitted",
                       "ethics_condition.evidence_decided"]


def test_evidence_that_is_not_a_pdf_is_refused_next_to_its_field_and_changes_nothing(client, granted):
    allocation, applicant, condition = granted
    client.force_login(applicant)
    response = client.post(reverse("grants:condition_evidence", args=[allocation.reference, condition.pk]),
                           {"file": f.file_upload("dpia.pdf", b"MZ not a pdf at all")})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="evidence-{condition.pk}_error"' in page and "not a PDF" in page
    condition.refresh_from_db()
    assert condition.evidence_status == EvidenceStatus.MISSING and condition.evidence is None
    assert not Attachment.objects.filter(kind=AttachmentKind.CONDITION_EVIDENCE).exists()
    assert not AuditEvent.objects.filter(action="ethics_condition.evidence_submitted").exists()


def test_only_the_organisation_uploads_and_only_ethics_officers_decide(granted):
    allocation, _applicant, condition = granted
    with pytest.raises(PermissionDenied):
        upload(allocation, f.other_organisation_user(), condition)
    with pytest.raises(PermissionDenied):
        compliance_services.condition_evidence_decide(actor=f.manager(), condition=condition, accept=True)
    with pytest.raises(ValidationError):  # nothing uploaded yet: nothing to decide
        compliance_services.condition_evidence_decide(actor=f.EthicsOfficerFactory(), condition=condition,
                                                      accept=True)


def test_the_ethics_officer_accepts_on_the_review_page(client, granted):
    allocation, applicant, condition = granted
    upload(allocation, applicant, condition)
    officer = f.EthicsOfficerFactory()
    client.force_login(officer)
    url = reverse("compliance:ethics_review", args=[allocation.application.reference])
    page = client.get(url).content.decode()
    assert "dpia-summary.pdf" in page and f"condition-{condition.pk}-decision" in page
    target = reverse("compliance:condition_evidence_decide", args=[allocation.application.reference, condition.pk])
    refused = client.post(target, {f"condition-{condition.pk}-decision": "reject",
                                   f"condition-{condition.pk}-comment": ""})
    assert refused.status_code == 400 and f'id="id_condition-{condition.pk}-comment_error"' in refused.content.decode()
    response = client.post(target, {f"condition-{condition.pk}-decision": "accept"})
    assert response.status_code == 302
    condition.refresh_from_db()
    assert condition.evidence_status == EvidenceStatus.ACCEPTED


def test_a_person_who_adds_themself_is_confirmed_without_a_mail(owner, organisation):
    app = f.draft(owner, organisation)
    me = application_services.team_member_add(actor=owner, application=app, full_name="Founder", email=owner.email,
                                              cluster_username="founder")
    assert me.confirmed_at is not None and me.user == owner
    assert not OutgoingEmail.objects.exists() and mail.outbox == []
    assert AuditEvent.objects.filter(action="team_member.confirmed", object_id=str(me.pk)).exists()


def test_resend_confirmation_sends_a_new_link_within_the_limits(client, granted, settings):
    allocation, applicant, _condition = granted
    member = TeamMember.objects.create(application=allocation.application, full_name="Ines", email="ines@example.eu",
                                       cluster_username="ines", token_hash="old",
                                       invited_at=timezone.now())
    client.force_login(applicant)
    url = reverse("grants:team_member_resend", args=[allocation.reference, member.pk])
    page = client.get(reverse("grants:allocation_detail", args=[allocation.reference])).content.decode()
    assert url in page and "resend confirmation" in page
    assert client.post(url).status_code == 302
    member.refresh_from_db()
    assert member.token_hash != "old"
    def to_ines():
        return [m for m in OutgoingEmail.objects.all() if m.to == ["ines@example.eu"]]

    [message] = to_ines()
    assert "/team/confirm/" in message.body
    # Again within the cool-down: refused with a message, nothing sent, nothing recorded.
    response = client.post(url, follow=True)
    assert "An e-mail went to this address less than" in response.content.decode()
    assert len(to_ines()) == 1
    assert AuditEvent.objects.filter(action="team_member.confirmation_resent").count() == 1
    # Someone outside the organisation cannot.
    with pytest.raises(PermissionDenied):
        application_services.team_member_resend(actor=f.other_organisation_user(), member=member)


def test_next_steps_in_order_and_a_hook_for_later_rules(granted):
    allocation, applicant, condition = granted
    TeamMember.objects.create(application=allocation.application, full_name="Ines", email="ines@example.eu",
                              cluster_username="ines", token_hash="x")
    steps = next_steps([allocation], applicant)[allocation.pk]
    assert [s.text for s in steps] == ["Acknowledge the ethics condition.",
                                       "Upload the document an ethics condition asks for.",
                                       "1 team member has not confirmed yet: send the link again if needed."]

    def terms(allocations, user):
        return {a.pk: [NextStep(25, "Accept the terms of use of Zellik.", "/terms/")] for a in allocations}

    register_next_step(terms)
    try:
        steps = next_steps([allocation], applicant)[allocation.pk]
        assert [s.order for s in steps] == [10, 15, 20, 25]
    finally:
        _PROVIDERS.remove(terms)
    compliance_services.condition_acknowledge(actor=applicant, condition=condition)
    EthicsCondition.objects.filter(pk=condition.pk).update(evidence_status=EvidenceStatus.ACCEPTED)
    TeamMember.objects.filter(confirmed_at=None).update(confirmed_at=timezone.now())
    [only] = next_steps([allocation], applicant)[allocation.pk]
    assert only.text.startswith("Nothing to do: the accounts open on")


def test_the_dashboard_shows_the_next_step_not_a_past_deadline(client, granted, django_assert_max_num_queries):
    allocation, applicant, _condition = granted
    app = allocation.application
    app.decision_due = timezone.localdate().replace(year=2020)
    app.save(update_fields=["decision_due"])
    client.force_login(applicant)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Next step:" in page and "Acknowledge the ethics condition." in page
    assert "2020" not in page
    # More grants cost no more queries.
    for _ in range(3):
        extra, _m, _a = f.approved_allocation()
        f.MembershipFactory(user=applicant, organisation=extra.organisation)
    with django_assert_max_num_queries(30):
        client.get(reverse("dashboard"))
