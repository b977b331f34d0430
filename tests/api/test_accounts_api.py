"""Organisations and memberships."""

import pytest

from accounts.models import Invitation, Membership, Organisation
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
