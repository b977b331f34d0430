"""GDPR: export what the portal holds about a person; erase (pseudonymise) them."""

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core import serializers
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, MembershipRole, User
from accounts.privacy import user_erase
from portal import privacy as privacy_registry
from portal.audit import verify_chain
from portal.models import AuditEvent, AuditEventContext
from tests.factories import MembershipFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(owner, organisation, password):
    """A member with some history: joined through an invitation, invited someone, left a trail."""
    person = UserFactory(email="Erin.Erasable@example.eu", full_name="Erin Erasable")
    _, token = services.invitation_create(actor=owner, organisation=organisation, email=person.email,
                                          role=MembershipRole.OWNER)
    services.invitation_accept(actor=person, token=token)
    services.invitation_create(actor=person, organisation=organisation, email="friend@example.eu")
    # An invitation to a second organisation, still open, addressed to the person.
    other = MembershipFactory(role=MembershipRole.OWNER)
    services.invitation_create(actor=other.user, organisation=other.organisation, email=person.email)
    activate_totp(person)
    return person


def test_export_contains_profile_memberships_and_audit_events(client, person, organisation):
    client.force_login(person)
    response = client.get(reverse("accounts:privacy_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["email"] == person.email
    assert data["profile"]["full_name"] == "Erin Erasable"
    assert [m["organisation_id"] for m in data["memberships"]] == [organisation.pk]
    assert data["memberships"][0]["role"] == "owner"
    assert {e["action"] for e in data["audit_events"]} == {"invitation.accepted", "invitation.created"}
    assert len(data["invitations_received"]) == 2
    assert data["email_addresses"] == [{"email": person.email, "verified": True, "primary": True}]
    assert [a["type"] for a in data["authenticators"]] == ["totp"]


def test_export_is_only_ever_about_the_requester(client, person, user):
    client.force_login(user)
    data = json.loads(client.get(reverse("accounts:privacy_export")).content)
    assert data["profile"]["email"] == user.email
    assert data["memberships"] == [] and data["audit_events"] == []


def _database_dump() -> str:
    """Every row of every model, serialised: what 'gone everywhere' is checked against."""
    chunks = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        chunks.append(serializers.serialize("json", model._default_manager.all()))
    return "\n".join(chunks).lower()


def test_erasure_pseudonymises_everywhere_and_the_chain_still_verifies(client, person, organisation, password):
    email, name = person.email, person.full_name
    assert email.lower() in _database_dump()
    client.force_login(person)
    # Leave a trail through the web too, so that audit events carry the client address.
    client.post(reverse("accounts:invitation_create", args=[organisation.pk]), {"email": "web@example.eu",
                                                                                "role": "member"})
    page = client.post(reverse("accounts:privacy_erase"), {"confirm": "WRONG"})
    assert page.status_code == 200
    assert User.objects.get(pk=person.pk).erased_at is None

    response = client.post(reverse("accounts:privacy_erase"), {"confirm": "ERASE"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session

    person.refresh_from_db()
    assert person.erased_at is not None
    assert person.email == f"erased-{person.pk}@erased.invalid"
    assert not person.is_active
    assert not person.has_usable_password()
    dump = _database_dump()
    assert email.lower() not in dump
    assert name.lower() not in dump
    assert "erin" not in dump
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not Authenticator.objects.filter(user=person).exists()
    contexts = AuditEventContext.objects.filter(event__actor_id=person.pk)
    assert contexts.exists()  # the requests were audited with their client address...
    assert set(contexts.values_list("ip_address", flat=True)) == {None}  # ...which is gone now
    assert set(Invitation.objects.filter(email__startswith="erased-").values_list("email", flat=True)) == {
        person.email}

    # The person cannot sign in any more, by the old or the new address.
    for login in (email, person.email):
        response = client.post(reverse("account_login"), {"login": login, "password": password})
        assert "_auth_user_id" not in client.session, login

    result = verify_chain()
    assert result.ok, result
    assert result.count >= 5


def test_erasure_is_idempotent_and_audited_once(person):
    user_erase(actor=person, user=person)
    user_erase(actor=person, user=person)
    assert AuditEvent.objects.filter(action="user.erased").count() == 1
    assert verify_chain().ok


def test_nobody_else_can_erase_a_person(person, user):
    with pytest.raises(PermissionDenied):
        user_erase(actor=user, user=person)
    person.refresh_from_db()
    assert person.erased_at is None


def test_each_app_registers_its_eraser_with_the_core_registry():
    """accounts and the core's outbox register from their AppConfig.ready(); the core imports no app."""
    assert {"invitations", "api_tokens", "outgoing_emails"} <= {name for name, _ in privacy_registry.erasers()}


def test_the_export_labels_audit_actions(client, person):
    client.force_login(person)
    data = json.loads(client.get(reverse("accounts:privacy_export")).content)
    labels = {e["action"]: e["action_label"] for e in data["audit_events"]}
    assert labels["invitation.accepted"] == "Invitation accepted"
