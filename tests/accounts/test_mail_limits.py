"""The portal is nobody's mail relay: invitations and team confirmations an organisation makes the portal
send to typed addresses are limited per organisation and day, never sent twice to one address within the
cool-down (a remove and re-add included), and carry names, never the sender's text."""

from __future__ import annotations

import datetime
import html

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import AddressedMail, AddressedMailKind, Invitation
from accounts.privacy import user_erase
from allocations.applications import services as application_services
from allocations.applications.models import TeamMember
from allocations.grants import services as grant_services
from allocations.grants.models import ChangeKind
from portal.models import AuditEvent, OutgoingEmail
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AIF_INVITE_MAILS_PER_DAY = 3
    settings.AIF_INVITE_MAIL_COOLDOWN_MINUTES = 10
    return settings


@pytest.fixture
def org(applicant):
    return f.org_of(applicant)


def add(actor, app, n, **overrides):
    data = {"full_name": f"Member {n}", "email": f"member{n}@example.eu", "cluster_username": f"member{n}"}
    return application_services.team_member_add(actor=actor, application=app, **(data | overrides))


def invite(actor, org, email):
    return account_services.invitation_create(actor=actor, organisation=org, email=email)[0]


def age(minutes: float) -> None:
    """Every counted mail was sent `minutes` earlier than recorded."""
    for row in AddressedMail.objects.all():
        AddressedMail.objects.filter(pk=row.pk).update(sent_at=row.sent_at - datetime.timedelta(minutes=minutes))


def state():
    return (TeamMember.objects.count(), Invitation.objects.count(), OutgoingEmail.objects.count(),
            AuditEvent.objects.count(), AddressedMail.objects.count())


# --------------------------------------------------------------------------------- the service

def test_an_organisation_sends_at_most_the_daily_limit_and_a_refusal_changes_nothing(applicant, org):
    app = f.draft(applicant)
    add(applicant, app, 1)
    invite(applicant, org, "colleague@example.eu")
    add(applicant, f.draft(applicant), 2)
    before = state()

    for attempt in (lambda: add(applicant, app, 3), lambda: invite(applicant, org, "another@example.eu")):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert list(refused.value.message_dict) == ["email"]
        assert "send 3 invitations and team confirmations in the last 24 hours" in refused.value.messages[0]
    assert state() == before

    age(24 * 60 + 1)  # a day later, the window has moved on
    add(applicant, app, 3)
    assert TeamMember.objects.count() == 3


def test_the_limit_is_per_organisation(applicant, outsider):
    app = f.draft(applicant)
    for n in range(3):
        add(applicant, app, n)
    other = add(outsider, f.draft(outsider), 9)
    assert other.pk


def test_removing_and_adding_a_person_again_does_not_send_again_within_the_cool_down(applicant):
    app = f.draft(applicant)
    member = add(applicant, app, 1)
    application_services.team_member_remove(actor=applicant, member=member)
    before = state()
    with pytest.raises(ValidationError) as refused:
        add(applicant, app, 1)
    assert "less than 10 minutes ago" in refused.value.message_dict["email"][0]
    assert state() == before
    # The same person on another application of the organisation is another confirmation: it goes.
    add(applicant, f.draft(applicant), 1)
    age(11)
    add(applicant, app, 1)
    assert app.team.get().email == "member1@example.eu"


def test_revoking_and_inviting_again_does_not_send_again_within_the_cool_down(applicant, org):
    invitation = invite(applicant, org, "Colleague@Example.eu")
    account_services.invitation_revoke(actor=applicant, invitation=invitation)
    with pytest.raises(ValidationError) as refused:
        invite(applicant, org, "colleague@example.eu")
    assert "less than 10 minutes ago" in refused.value.messages[0]
    assert Invitation.objects.count() == 1
    # Inviting a person and adding them to a team are two messages about two things: both go.
    add(applicant, f.draft(applicant), 1, email="colleague@example.eu")


def test_a_managers_approval_adds_the_members_a_change_request_named_even_over_the_limit():
    allocation, manager, owner = f.approved_allocation()
    for n in range(3):  # the organisation's day is used up
        account_services.addressed_mail_record(organisation_id=allocation.organisation_id,
                                               kind=AddressedMailKind.INVITATION,
                                               about=f"accounts.organisation:{allocation.organisation_id}",
                                               email=f"x{n}@example.eu")
    cr = grant_services.change_request_submit(
        actor=owner, allocation=allocation, kind=ChangeKind.ADD_MEMBERS, justification="A new engineer",
        payload={"members": [{"full_name": "Nina New", "email": "nina@example.eu", "cluster_username": "nina"}]})
    grant_services.change_request_decide(actor=manager, change_request=cr, approve=True)
    assert allocation.application.team.filter(email="nina@example.eu").exists()
    assert AddressedMail.objects.filter(organisation_id=allocation.organisation_id).count() == 4


def test_only_the_keyed_hash_of_an_address_is_kept_and_erasure_removes_it(applicant):
    person = f.UserFactory(email="member1@example.eu")
    add(applicant, f.draft(applicant), 1)
    row = AddressedMail.objects.get()
    assert "member1" not in row.address_hash and len(row.address_hash) == 64
    user_erase(actor=person, user=person)
    assert not AddressedMail.objects.exists()


# --------------------------------------------------------------------------------- what the mail says

def test_the_team_confirmation_carries_names_never_the_senders_text(applicant, run_on_commit):
    app = f.draft(applicant, title="FREE GPUs, claim yours now at gpu-prizes dot example")
    with run_on_commit():
        add(applicant, app, 1, full_name="Ines Engineer")
    [message] = mail.outbox
    assert "Ines Engineer" in message.body and app.reference in message.body
    assert app.organisation.legal_name in message.body and "member1" in message.body
    assert "FREE GPUs" not in message.body and "FREE GPUs" not in message.subject


@pytest.mark.parametrize("name", ["Ines http://gpu-prizes.example", "Visit www.gpu-prizes.example",
                                  "Write to win@gpu-prizes.example", "Ines\nClaim your prize"])
def test_a_name_that_carries_a_message_is_refused(applicant, name):
    app = f.draft(applicant)
    with pytest.raises(ValidationError) as refused:
        add(applicant, app, 1, full_name=name)
    assert "full_name" in refused.value.message_dict
    assert not TeamMember.objects.exists() and not AddressedMail.objects.exists()


def test_an_organisation_name_that_carries_a_link_is_refused(user, valid_be_number):
    with pytest.raises(ValidationError) as refused:
        account_services.organisation_create(actor=user, data={
            "legal_name": "Prizes at http://gpu-prizes.example", "country": "BE", "org_type": "sme",
            "vat_number": valid_be_number, "headcount": 3, "annual_turnover": 1000, "balance_sheet_total": 1000})
    assert "legal_name" in refused.value.message_dict


# --------------------------------------------------------------------------------- the pages and the API

def test_the_team_page_shows_the_refusal_at_the_address(client, applicant):
    app = f.draft(applicant)
    for n in range(3):
        add(applicant, f.draft(applicant), n)
    client.force_login(applicant)
    before = state()
    response = client.post(reverse("applications:step_team", args=[app.reference]),
                           {"full_name": "Ines Engineer", "email": "ines@example.eu", "cluster_username": "ines"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "the most it sends for one organisation" in page
    assert response.context["form"].errors["email"]
    assert state() == before


def test_the_team_page_refuses_a_re_add_within_the_cool_down(client, applicant):
    app = f.draft(applicant)
    client.force_login(applicant)
    step = reverse("applications:step_team", args=[app.reference])
    data = {"full_name": "Ines Engineer", "email": "ines@example.eu", "cluster_username": "ines"}
    assert client.post(step, data).status_code == 302
    member = app.team.get()
    assert client.post(reverse("applications:team_member_remove", args=[app.reference, member.pk])).status_code == 302
    response = client.post(step, data)
    assert response.status_code == 200 and "less than 10 minutes ago" in html.unescape(response.content.decode())
    assert not app.team.exists()


def test_the_organisation_page_refuses_an_invitation_over_the_limit(client, applicant, org):
    for n in range(3):
        invite(applicant, org, f"x{n}@example.eu")
    client.force_login(applicant)
    response = client.post(reverse("accounts:invitation_create", args=[org.pk]),
                           {"email": "one.more@example.eu", "role": "member"}, follow=True)
    assert "the most it sends for one organisation" in html.unescape(response.content.decode())
    assert not Invitation.objects.filter(email="one.more@example.eu").exists()


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(**f.auth(f.token(user)))
    return client


def test_the_api_refuses_over_the_limit_with_the_field_and_changes_nothing(applicant, org):
    app = f.draft(applicant)
    client = _api(applicant)
    for n in range(3):
        assert client.post(f"/api/v1/applications/{app.reference}/team/", {
            "full_name": f"Member {n}", "email": f"m{n}@example.eu", "cluster_username": f"m{n}"},
            format="json").status_code == 201
    before = state()
    team = client.post(f"/api/v1/applications/{app.reference}/team/", {
        "full_name": "Member 4", "email": "m4@example.eu", "cluster_username": "m4"}, format="json")
    invitation = client.post(f"/api/v1/organisations/{org.pk}/invitations/", {"email": "new@example.eu"},
                             format="json")
    for response in (team, invitation):
        assert response.status_code == 400
        assert "the most it sends for one organisation" in response.json()["error"]["fields"]["email"][0]
    assert state() == before


def test_the_api_refuses_a_re_invitation_within_the_cool_down(applicant, org):
    client = _api(applicant)
    created = client.post(f"/api/v1/organisations/{org.pk}/invitations/", {"email": "new@example.eu"}, format="json")
    assert created.status_code == 201
    revoke = f"/api/v1/organisations/{org.pk}/invitations/{created.json()['id']}/revoke/"
    assert client.post(revoke).status_code == 200
    again = client.post(f"/api/v1/organisations/{org.pk}/invitations/", {"email": "new@example.eu"}, format="json")
    assert again.status_code == 400 and "less than 10 minutes ago" in again.json()["error"]["fields"]["email"][0]
    assert Invitation.objects.count() == 1
