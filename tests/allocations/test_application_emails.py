"""E-mails go out after the commit (Celery is eager in tests), never from inside the transaction."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.formats import date_format

from accounts.models import Membership
from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import ApplicationStatus, TeamMember
from allocations.grants import services as grants_services
from allocations.review import services as review_services
from tests import factories as f
from tests.factories import MembershipFactory, OwnerMembershipFactory

pytestmark = pytest.mark.django_db


def add_member(client, app):
    return client.post(reverse("applications:step_team", args=[app.reference]), {
        "full_name": "Ines Engineer", "email": "Ines@Example.eu", "cluster_username": "ines"})


def test_team_invitation_is_sent_on_commit(member_client, app_draft, organisation,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_member(member_client, app_draft)
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ines@example.eu"]
    assert message.subject == f"[AI Factory] Please confirm your participation in {app_draft.reference}"
    assert "Hello Ines Engineer," in message.body
    assert organisation.legal_name in message.body and "ines" in message.body
    assert app_draft.title not in message.body  # the sender's own text stays out of a mail to a typed address
    link = re.search(r"(http\S+/team/confirm/(\S+)/)", message.body)
    assert link.group(1).startswith(settings.PORTAL_BASE_URL)
    # The link in the e-mail works.
    member_client.logout()
    member_client.post(reverse("applications:team_confirm", args=[link.group(2)]))
    assert TeamMember.objects.get().confirmed_at is not None


def test_nothing_is_sent_before_the_commit(member_client, app_draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        add_member(member_client, app_draft)
    assert len(callbacks) == 1 and mail.outbox == []


def test_refused_team_member_sends_nothing(member_client, app_draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        member_client.post(reverse("applications:step_team", args=[app_draft.reference]), {
            "full_name": "X", "email": "x@example.eu", "cluster_username": "Not Valid"})
    assert callbacks == [] and mail.outbox == []


def test_submission_notifies_every_member(member_client, member, organisation, capacity,
                                          django_capture_on_commit_callbacks):
    owner = OwnerMembershipFactory(organisation=organisation).user
    MembershipFactory()  # someone in another organisation: not told
    app = f.complete(member, organisation, team=False)
    services.team_member_add(actor=member, application=app, full_name="Ines", email="ines@example.eu",
                             cluster_username="ines")
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("applications:application_submit", args=[app.reference]),
                                      {"declaration": "on", "declaration_version": DECLARATION_VERSION})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([member.email, owner.email])
    assert message.subject == f"[AI Factory] {app.reference}: Submitted (eligibility check)"
    assert "changed from Draft to Submitted (eligibility check)" in message.body
    assert f"{settings.PORTAL_BASE_URL}/applications/{app.reference}/" in message.body


def test_refused_submission_sends_nothing(member_client, app_draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        member_client.post(reverse("applications:application_submit", args=[app_draft.reference]))
    assert callbacks == [] and mail.outbox == []


def test_withdrawal_notifies(member_client, member, organisation, capacity, django_capture_on_commit_callbacks):
    app = f.submitted(member, organisation)
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(reverse("applications:application_withdraw", args=[app.reference]), {"reason": "Done"})
    assert [m.subject for m in mail.outbox] == [f"[AI Factory] {app.reference}: Withdrawn"]
    assert "from Submitted (eligibility check) to Withdrawn" in mail.outbox[0].body


def test_emails_follow_the_language_of_the_request(member_client, app_draft, django_capture_on_commit_callbacks):
    """Rendered with {% blocktranslate %}: without a catalogue the English text is used, never a raw tag."""
    member_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    with django_capture_on_commit_callbacks(execute=True):
        add_member(member_client, app_draft)
    body = mail.outbox[0].body
    assert "{%" not in body and "{{" not in body and app_draft.reference in body


def test_the_approval_mail_names_the_quotas_the_start_the_conditions_and_the_link(run_on_commit):
    f.publish_capacity()
    start = f.start_soon()
    app = f.application(status=ApplicationStatus.AWAITING_DECISION, start=start,
                        requests={"zellik": 12_000, "charleroi": 3_000})
    owner = Membership.objects.get(organisation=app.organisation).user
    colleague = MembershipFactory(organisation=app.organisation).user
    f.add_condition(app, "Delete the raw recordings after training.")
    boss = f.manager()
    quotas = {f.site("zellik").pk: {"gpu_hours": 12_000, "cpu_core_hours": 500, "storage_tb": "2"},
              f.site("charleroi").pk: {"gpu_hours": 2_500, "cpu_core_hours": 0, "storage_tb": "0"}}
    with run_on_commit():
        allocation = review_services.application_approve(actor=boss, application=app, quotas=quotas)
    [message] = mail.outbox
    assert sorted(message.to) == sorted([owner.email, colleague.email])
    assert message.subject == f"[AI Factory] {app.reference} approved: your compute allocation"
    body = message.body
    assert "- Charleroi: 2,500 GPU-hours, 0 CPU core-hours, 0 TB of storage" in body
    assert "- Zellik: 12,000 GPU-hours, 500 CPU core-hours, 2 TB of storage" in body
    assert body.index("Charleroi") < body.index("Zellik")
    assert f"from {date_format(start, 'DATE_FORMAT')} to {date_format(allocation.end_date, 'DATE_FORMAT')}" in body
    assert "- Delete the raw recordings after training." in body
    assert f"{settings.PORTAL_BASE_URL}/allocations/{allocation.reference}/" in body
    assert "changed from" not in body  # the plain status mail is not sent as well


def test_an_approval_without_conditions_says_nothing_of_them(run_on_commit):
    f.publish_capacity()
    app = f.application(status=ApplicationStatus.AWAITING_DECISION)
    with run_on_commit():
        review_services.application_approve(actor=f.manager(), application=app,
                                             quotas={f.site("zellik").pk: {"gpu_hours": 100}})
    [message] = mail.outbox
    assert "condition" not in message.body and "See the allocation and its quotas in the portal:" in message.body


def test_a_refused_approval_mails_nobody(run_on_commit):
    app = f.application(status=ApplicationStatus.AWAITING_DECISION, ethics="pending")
    with run_on_commit(), pytest.raises(ValidationError):
        review_services.application_approve(actor=f.manager(), application=app,
                                            quotas={f.site("zellik").pk: {"gpu_hours": 100}})
    assert mail.outbox == []


def test_an_allocation_status_mail_links_to_the_allocation(run_on_commit):
    alloc = f.allocation()
    with run_on_commit():
        grants_services.allocation_suspend(actor=f.manager(), allocation=alloc, reason="Misuse reported.")
    [message] = mail.outbox
    assert message.subject == f"[AI Factory] Allocation {alloc.reference}: Suspended"
    assert f"{settings.PORTAL_BASE_URL}/allocations/{alloc.reference}/" in message.body
