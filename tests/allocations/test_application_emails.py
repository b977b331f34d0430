"""E-mails go out after the commit (Celery is eager in tests), never from inside the transaction."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import TeamMember
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
    assert organisation.legal_name in message.body and "ines" in message.body and app_draft.title in message.body
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
