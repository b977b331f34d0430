"""Organisations and memberships."""

import json
import logging

import pytest

from accounts import services
from accounts.models import Invitation, Membership, Organisation
from portal.models import AuditEvent
from tests import factories as f
from tests.factories import org_of

pytestmark = pytest.mark.django_db


def test_lists_only_the_callers_organisations_with_their_role(as_user, applicant, outsider):
    response = as_user(applicant).get("/api/v1/organisations/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [org_of(applicant).pk]
    assert rows[0]["my_role"] == "owner"


def test_detail_is_404_for_another_organisation(as_user, applicant, outsider):
    client = as_user(applicant)
    assert client.get(f"/api/v1/organisations/{org_of(applicant).pk}/").status_code == 200
    response = client.get(f"/api/v1/organisations/{org_of(outsider).pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_create_registers_the_caller_as_owner(as_user, applicant, valid_be_number):
    data = {"legal_name": "Neural Forge BV", "country": "BE", "org_type": "startup", "vat_number": valid_be_number,
            "headcount": 5, "annual_turnover": "100000", "balance_sheet_total": "50000", "sectors": ["health"]}
    response = as_user(applicant).post("/api/v1/organisations/", data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["my_role"] == "owner" and response.json()["sme_class"] == "micro"
    assert Membership.objects.get(organisation_id=response.json()["id"]).user == applicant


def test_create_reports_service_and_shape_errors_per_field(as_user, applicant):
    client = as_user(applicant)
    bad_vat = {"legal_name": "X", "country": "BE", "org_type": "sme", "vat_number": "0123", "headcount": 1,
               "annual_turnover": "1", "balance_sheet_total": "1"}
    response = client.post("/api/v1/organisations/", bad_vat, format="json")
    assert response.status_code == 400
    assert "vat_number" in response.json()["error"]["fields"]
    response = client.post("/api/v1/organisations/", {"legal_name": "X"}, format="json")
    assert response.status_code == 400
    assert {"country", "org_type", "headcount"} <= set(response.json()["error"]["fields"])
    assert Organisation.objects.count() == 1


def test_members_list_and_filter(as_user, applicant, outsider):
    org = org_of(applicant)
    f.MembershipFactory(organisation=org)
    client = as_user(applicant)
    assert client.get(f"/api/v1/organisations/{org.pk}/members/").json()["count"] == 2
    assert client.get(f"/api/v1/organisations/{org.pk}/members/?role=owner").json()["count"] == 1
    assert client.get(f"/api/v1/organisations/{org.pk}/members/?role=boss").status_code == 400
    assert client.get(f"/api/v1/organisations/{org_of(outsider).pk}/members/").status_code == 404


def test_owner_invites_member_may_not(as_user, applicant, run_on_commit):
    org = org_of(applicant)
    member = f.applicant(org, owner=False)
    with run_on_commit():
        response = as_user(applicant).post(f"/api/v1/organisations/{org.pk}/invitations/",
                                           {"email": "New.Person@Example.eu"}, format="json")
    assert response.status_code == 201
    assert response.json()["email"] == "new.person@example.eu" and "token" not in response.json()
    assert Invitation.objects.filter(organisation=org).count() == 1
    response = as_user(member).post(f"/api/v1/organisations/{org.pk}/invitations/", {"email": "x@example.eu"},
                                    format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_invite_validation_and_other_organisation(as_user, applicant, outsider):
    org = org_of(applicant)
    client = as_user(applicant)
    assert client.post(f"/api/v1/organisations/{org.pk}/invitations/", {"email": applicant.email},
                       format="json").status_code == 400
    assert client.post(f"/api/v1/organisations/{org.pk}/invitations/", {"email": "nope"},
                       format="json").json()["error"]["fields"]["email"]
    assert client.post(f"/api/v1/organisations/{org_of(outsider).pk}/invitations/", {"email": "a@b.eu"},
                       format="json").status_code == 404


def test_me_reports_roles_and_scopes(as_user, boss):
    body = as_user(boss, scopes=["read"]).get("/api/v1/me/").json()
    assert body["roles"] == ["allocation_manager"] and body["token_scopes"] == ["read"]


# ------------------------------------------------------------------------------------ changing an organisation

def events(action: str):
    return AuditEvent.objects.filter(action=action)


def test_owner_edits_the_organisation_once(as_user, applicant):
    org = org_of(applicant)
    client = as_user(applicant)
    path = f"/api/v1/organisations/{org.pk}/"
    response = client.patch(path, {"legal_name": "Neural Forge BV", "headcount": 60}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["legal_name"] == "Neural Forge BV" and body["my_role"] == "owner" and body["sme_class"] == "medium"
    assert client.patch(path, {"legal_name": "Neural Forge BV", "headcount": 60}, format="json").status_code == 200
    event = events("organisation.updated").get()  # the second, identical call changed nothing
    assert event.actor_id == applicant.pk and event.object_id == str(org.pk)
    assert event.changes["legal_name"][1] == "Neural Forge BV" and event.changes["headcount"] == [8, 60]
    assert client.get(path).json()["legal_name"] == "Neural Forge BV"


def test_edit_is_for_owners_of_the_organisation_and_checks_input(as_user, applicant, outsider):
    org = org_of(applicant)
    before = Organisation.objects.values().get(pk=org.pk)
    path = f"/api/v1/organisations/{org.pk}/"
    member = f.applicant(org, owner=False)
    response = as_user(member).patch(path, {"legal_name": "Mine now"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert as_user(outsider).patch(path, {"legal_name": "Mine now"}, format="json").status_code == 404
    client = as_user(applicant)
    bad_vat = client.patch(path, {"vat_number": "0123"}, format="json")
    assert bad_vat.status_code == 400 and "vat_number" in bad_vat.json()["error"]["fields"]
    shape = client.patch(path, {"headcount": -1, "country": "US", "sectors": ["astrology"]}, format="json")
    assert shape.status_code == 400
    assert {"headcount", "country", "sectors.0"} <= set(shape.json()["error"]["fields"])
    taken = client.patch(path, {"vat_number": org_of(outsider).vat_number}, format="json")
    assert taken.status_code == 400 and "vat_number" in taken.json()["error"]["fields"]
    assert Organisation.objects.values().get(pk=org.pk) == before
    assert not events("organisation.updated").exists()


# ------------------------------------------------------------------------------------ members

def member_path(org, membership) -> str:
    return f"/api/v1/organisations/{org.pk}/members/{membership.pk}/"


def test_owner_removes_a_member_once(as_user, applicant):
    org = org_of(applicant)
    member = f.applicant(org, owner=False)
    membership = Membership.objects.get(user=member)
    client = as_user(applicant)
    assert client.delete(member_path(org, membership)).status_code == 204
    assert not Membership.objects.filter(user=member).exists()
    event = events("membership.removed").get()
    assert event.actor_id == applicant.pk and event.changes["user_id"] == member.pk
    assert client.delete(member_path(org, membership)).status_code == 404  # gone
    assert events("membership.removed").count() == 1


def test_removing_members_is_for_owners_and_keeps_an_owner(as_user, applicant, outsider):
    org = org_of(applicant)
    member = f.applicant(org, owner=False)
    other = f.applicant(org, owner=False)
    owner_row = Membership.objects.get(user=applicant)
    response = as_user(member).delete(member_path(org, Membership.objects.get(user=other)))
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert as_user(outsider).delete(member_path(org, owner_row)).status_code == 404
    assert as_user(outsider).delete(member_path(org_of(outsider), owner_row)).status_code == 404
    last = as_user(applicant).delete(member_path(org, owner_row))
    assert last.status_code == 400
    assert last.json()["error"]["message"] == "An organisation must keep at least one owner."
    assert Membership.objects.filter(organisation=org).count() == 3
    assert not events("membership.removed").exists()
    assert as_user(member).delete(member_path(org, Membership.objects.get(user=member))).status_code == 204  # leaves


def test_owner_changes_a_role_once(as_user, applicant):
    org = org_of(applicant)
    member = f.applicant(org, owner=False)
    path = member_path(org, Membership.objects.get(user=member))
    client = as_user(applicant)
    response = client.patch(path, {"role": "owner"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "owner" and response.json()["email"] == member.email
    assert client.patch(path, {"role": "owner"}, format="json").status_code == 200
    event = events("membership.role_changed").get()
    assert event.actor_id == applicant.pk and event.changes["role"] == ["member", "owner"]


def test_role_changes_are_for_owners_and_check_input(as_user, applicant, outsider):
    org = org_of(applicant)
    member = f.applicant(org, owner=False)
    owner_path = member_path(org, Membership.objects.get(user=applicant))
    response = as_user(member).patch(member_path(org, Membership.objects.get(user=member)), {"role": "owner"},
                                     format="json")
    assert response.status_code == 403
    assert as_user(outsider).patch(owner_path, {"role": "member"}, format="json").status_code == 404
    client = as_user(applicant)
    assert "role" in client.patch(owner_path, {"role": "boss"}, format="json").json()["error"]["fields"]
    assert client.patch(owner_path, {}, format="json").status_code == 400
    last = client.patch(owner_path, {"role": "member"}, format="json")
    assert last.status_code == 400
    assert last.json()["error"]["message"] == "An organisation must keep at least one owner."
    assert set(Membership.objects.filter(organisation=org).values_list("role", flat=True)) == {"owner", "member"}
    assert not events("membership.role_changed").exists()


# ------------------------------------------------------------------------------------ invitations

def test_owner_lists_and_revokes_open_invitations_once(as_user, applicant):
    org = org_of(applicant)
    invitation, _token = services.invitation_create(actor=applicant, organisation=org, email="later@example.eu")
    client = as_user(applicant)
    rows = client.get(f"/api/v1/organisations/{org.pk}/invitations/").json()["results"]
    assert [(r["id"], r["email"], r["revoked_at"]) for r in rows] == [(invitation.pk, "later@example.eu", None)]
    assert "token" not in rows[0] and "token_hash" not in rows[0]
    path = f"/api/v1/organisations/{org.pk}/invitations/{invitation.pk}/revoke/"
    response = client.post(path)
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert client.post(path).status_code == 200
    assert events("invitation.revoked").get().actor_id == applicant.pk
    assert client.get(f"/api/v1/organisations/{org.pk}/invitations/").json()["count"] == 0


def test_invitations_are_for_owners_of_the_organisation(as_user, applicant, outsider):
    org = org_of(applicant)
    invitation, _token = services.invitation_create(actor=applicant, organisation=org, email="later@example.eu")
    member = f.applicant(org, owner=False)
    path = f"/api/v1/organisations/{org.pk}/invitations/{invitation.pk}/revoke/"
    assert as_user(member).get(f"/api/v1/organisations/{org.pk}/invitations/").status_code == 403
    response = as_user(member).post(path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert as_user(outsider).get(f"/api/v1/organisations/{org.pk}/invitations/").status_code == 404
    assert as_user(outsider).post(path).status_code == 404
    outsider_org = org_of(outsider)
    assert as_user(outsider).post(
        f"/api/v1/organisations/{outsider_org.pk}/invitations/{invitation.pk}/revoke/").status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert not events("invitation.revoked").exists()


def test_invited_person_accepts_with_the_token_in_the_body(as_user, applicant, caplog):
    org = org_of(applicant)
    invitation, token = services.invitation_create(actor=applicant, organisation=org, email="New.Person@Example.eu",
                                                   role="member")
    newcomer = f.UserFactory(email="new.person@example.eu")
    client = as_user(newcomer)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
        again = client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == org.pk and response.json()["my_role"] == "member"
    assert Membership.objects.get(user=newcomer, organisation=org).role == "member"
    assert again.status_code == 400  # used: the link works once
    assert again.json()["error"]["message"] == "This invitation is not valid any more. Ask for a new one."
    event = events("invitation.accepted").get()
    assert event.actor_id == newcomer.pk and event.object_id == str(invitation.pk)
    for text in (response.content.decode(), again.content.decode(), json.dumps(event.changes), caplog.text):
        assert token not in text


def test_accepting_needs_the_right_person_and_a_valid_token(as_user, applicant, outsider, caplog):
    org = org_of(applicant)
    _invitation, token = services.invitation_create(actor=applicant, organisation=org, email="right@example.eu")
    with caplog.at_level(logging.DEBUG):
        wrong = as_user(outsider).post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "permission_denied"
    assert token not in wrong.content.decode() and token not in caplog.text
    right = f.UserFactory(email="right@example.eu")
    client = as_user(right)
    assert client.post("/api/v1/invitations/accept/", {"token": "not-a-token"}, format="json").status_code == 400
    assert "token" in client.post("/api/v1/invitations/accept/", {}, format="json").json()["error"]["fields"]
    assert client.post("/api/v1/invitations/accept/", {"token": "x" * 201}, format="json").status_code == 400
    read_only = as_user(right, scopes=["read"]).post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert read_only.json()["error"]["code"] == "insufficient_scope"
    assert Membership.objects.filter(organisation=org).count() == 1
    assert not events("invitation.accepted").exists()


@pytest.mark.parametrize("method,path,body", [
    ("patch", "/api/v1/organisations/{org}/", {"legal_name": "Staff Co"}),
    ("delete", "/api/v1/organisations/{org}/members/{membership}/", None),
    ("patch", "/api/v1/organisations/{org}/members/{membership}/", {"role": "member"}),
    ("get", "/api/v1/organisations/{org}/invitations/", None),
    ("post", "/api/v1/organisations/{org}/invitations/{invitation}/revoke/", None),
    ("post", "/api/v1/invitations/accept/", {"token": "whatever"}),
])
def test_a_staff_token_without_a_second_factor_is_refused(as_user, method, path, body):
    staff = f.AllocationManagerFactory(totp=False)  # no authenticator
    org = f.OrganisationFactory()
    membership = Membership.objects.create(user=staff, organisation=org, role="owner")
    invitation, _token = services.invitation_create(actor=staff, organisation=org, email="x@example.eu")
    url = path.format(org=org.pk, membership=membership.pk, invitation=invitation.pk)
    response = getattr(as_user(staff), method)(url, body, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "mfa_required"
    assert Membership.objects.filter(organisation=org).count() == 1
    assert Organisation.objects.get(pk=org.pk).legal_name == org.legal_name
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
