"""Reserved and invalid cluster usernames through the API: a 400 that names the field, nothing written."""

from __future__ import annotations

import pytest

from allocations.applications.models import TeamMember
from allocations.grants.models import ChangeRequest
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", ["root", "www-data", "_"])
def test_the_api_refuses_reserved_and_invalid_names_with_the_field(as_user, applicant, username):
    app = f.draft(applicant)
    response = as_user(applicant).post(f"/api/v1/applications/{app.reference}/team/", {
        "full_name": "Eve", "email": "eve@example.eu", "cluster_username": username}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["cluster_username"]
    assert not TeamMember.objects.exists()
    assert not AuditEvent.objects.filter(action="team_member.added").exists()


def test_the_change_request_api_names_the_field(as_user, applicant):
    alloc = f.allocation(member=applicant)
    response = as_user(applicant).post(f"/api/v1/allocations/{alloc.reference}/change-requests/", {
        "kind": "add_members", "justification": "New hire",
        "members": [{"full_name": "Eve", "email": "eve@example.eu", "cluster_username": "root"}]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["members.0.cluster_username"]
    assert not ChangeRequest.objects.exists()
