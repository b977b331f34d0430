"""Team-member confirmation through the API: POST /api/v1/team/confirm/ with the mailed token in the body."""

from __future__ import annotations

import json
import logging

import pytest
from rest_framework.test import APIClient

from allocations.applications import services as application_services
from allocations.applications.models import TeamMember
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def events(action: str):
    return AuditEvent.objects.filter(action=action)


# ------------------------------------------------------------------------------------ team confirmation

TEAM_CONFIRM = "/api/v1/team/confirm/"


@pytest.fixture
def team_member(applicant):
    """A team member of a draft and the token of the link mailed to them."""
    app = f.draft(applicant)
    member = application_services.team_member_add(actor=applicant, application=app, full_name="Ines Engineer",
                                                  email="Ines@Example.eu", cluster_username="ines")
    token = "mailed-token-for-ines"
    TeamMember.objects.filter(pk=member.pk).update(token_hash=TeamMember.hash_token(token))
    return member, token


def test_team_member_confirms_with_the_token_in_the_body(as_user, team_member, caplog):
    member, token = team_member
    ines = f.UserFactory(email="ines@example.eu")
    client = as_user(ines)
    with caplog.at_level(logging.DEBUG):
        response = client.post(TEAM_CONFIRM, {"token": token}, format="json")
        again = client.post(TEAM_CONFIRM, {"token": token}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["application"] == member.application.reference
    assert body["full_name"] == "Ines Engineer" and body["cluster_username"] == "ines" and body["confirmed_at"]
    member.refresh_from_db()
    assert member.confirmed_at is not None and member.user == ines  # the same address: linked
    assert again.status_code == 200 and again.json()["confirmed_at"] == body["confirmed_at"]  # as on the page
    event = events("team_member.confirmed").get()  # confirming again writes nothing
    assert event.actor_id == ines.pk and event.object_id == str(member.pk)
    for text in (response.content.decode(), again.content.decode(), json.dumps(event.changes), caplog.text):
        assert token not in text


def test_someone_else_holding_the_link_confirms_without_being_linked(as_user, outsider, team_member):
    """The page is public: the mailed token is the credential. Only the same address links the account."""
    member, token = team_member
    assert as_user(outsider).post(TEAM_CONFIRM, {"token": token}, format="json").status_code == 200
    member.refresh_from_db()
    assert member.confirmed_at is not None and member.user is None


@pytest.mark.parametrize("body", [{"token": "not-a-token"}, {}, {"token": ""}, {"token": "x" * 201}])
def test_team_confirmation_refuses_a_bad_token_and_changes_nothing(as_user, outsider, team_member, body, caplog):
    member, _token = team_member
    with caplog.at_level(logging.DEBUG):
        response = as_user(outsider).post(TEAM_CONFIRM, body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    if body.get("token") == "not-a-token":
        assert response.json()["error"]["message"] == "This confirmation link is not valid."
        assert "not-a-token" not in response.content.decode() + caplog.text
    member.refresh_from_db()
    assert member.confirmed_at is None and not events("team_member.confirmed").exists()


def test_team_confirmation_needs_write_scope_and_a_staff_second_factor(as_user, team_member):
    member, token = team_member
    read_only = as_user(f.UserFactory(), scopes=["read"]).post(TEAM_CONFIRM, {"token": token}, format="json")
    assert read_only.status_code == 403 and read_only.json()["error"]["code"] == "insufficient_scope"
    no_mfa = as_user(f.ReviewerFactory(totp=False)).post(TEAM_CONFIRM, {"token": token}, format="json")
    assert no_mfa.status_code == 403 and no_mfa.json()["error"]["code"] == "mfa_required"
    assert APIClient().post(TEAM_CONFIRM, {"token": token}, format="json").status_code == 401
    member.refresh_from_db()
    assert member.confirmed_at is None and not events("team_member.confirmed").exists()
