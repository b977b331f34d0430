"""Cluster usernames: system and reserved names and names outside a site's rule are refused on every
path that adds a team member, and every member, however added, confirms by mail before reaching Slurm.
The API side is in tests/api/test_cluster_usernames_api.py."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from allocations.applications import services as application_services
from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site
from allocations.grants import services as grants_services
from allocations.grants.models import Allocation, ChangeKind, ChangeRequest, SyncState
from allocations.provisioning.services import site_desired
from tests import factories as f

pytestmark = pytest.mark.django_db

REFUSED = ["root", "slurm", "systemd-resolve", "_", "__"]


def _team_step(app):
    return reverse("applications:step_team", args=[app.reference])


# --- the team step, the API and the service ---------------------------------------------------------

@pytest.mark.parametrize("username", REFUSED)
def test_the_team_step_refuses_reserved_and_invalid_names_next_to_the_field(member_client, app_draft, username):
    response = member_client.post(_team_step(app_draft), {"full_name": "Eve", "email": "eve@example.eu",
                                                          "cluster_username": username})
    assert response.status_code == 200
    assert response.context["form"].errors.get("cluster_username")
    assert not TeamMember.objects.exists() and mail.outbox == []


def test_a_site_applies_its_own_rule_and_reserved_names(member, app_draft, capacity):
    f.fill(member, app_draft, team=False)  # asks for zellik
    zellik = f.site("zellik")
    zellik.username_pattern = r"^[a-z]{3,8}$"
    zellik.reserved_usernames = ["monitor"]
    zellik.save()

    def add(username):
        return application_services.team_member_add(actor=member, application=app_draft, full_name="Ines",
                                                    email=f"{username}@example.eu", cluster_username=username)

    for username, message in [("ines_2", "does not follow the naming rule of"), ("monitor", "is reserved on")]:
        with pytest.raises(ValidationError) as refused:
            add(username)
        assert message in " ".join(refused.value.message_dict["cluster_username"])
    assert not TeamMember.objects.exists()
    assert add("ines").cluster_username == "ines"


def test_a_site_rule_shows_on_the_team_step(member_client, member, app_draft, capacity):
    f.fill(member, app_draft, team=False)
    Site.objects.filter(code="zellik").update(username_pattern=r"^[a-z]{3,8}$")
    response = member_client.post(_team_step(app_draft), {"full_name": "Jo", "email": "jo@example.eu",
                                                          "cluster_username": "jo"})
    assert "does not follow the naming rule of" in " ".join(response.context["form"].errors["cluster_username"])
    assert not TeamMember.objects.exists()


def test_the_default_rule_of_a_site():
    zellik = f.site("zellik")
    assert zellik.username_refusal("ines") is None
    for username in ["_", "__", "-x", "x", "x" * 33, "Ines", "in.es"]:
        assert zellik.username_refusal(username), username


# --- the change-request path --------------------------------------------------------------------------

def _ask(alloc, member, username, email="bo@example.com"):
    return grants_services.change_request_submit(
        actor=member, allocation=alloc, kind=ChangeKind.ADD_MEMBERS, justification="New hire",
        payload={"members": [{"full_name": "Bo Analyst", "email": email, "cluster_username": username}]})


@pytest.mark.parametrize("username", ["root", "munge", "_", "Bad Name!"])
def test_a_change_request_cannot_ask_for_a_reserved_or_invalid_name(username):
    member = f.applicant()
    alloc = f.allocation(member=member)
    with pytest.raises(ValidationError) as refused:
        _ask(alloc, member, username)
    assert list(refused.value.message_dict) == ["members.0.cluster_username"]
    assert not ChangeRequest.objects.exists()


def test_a_change_request_follows_the_site_rule():
    member = f.applicant()
    alloc = f.allocation(member=member)
    Site.objects.filter(code="zellik").update(reserved_usernames=["backup2"])
    with pytest.raises(ValidationError):
        _ask(alloc, member, "backup2")
    assert not ChangeRequest.objects.exists()


def test_the_change_request_form_shows_the_refusal_next_to_the_person(client):
    member = f.applicant()
    alloc = f.allocation(member=member)
    client.force_login(member)
    response = client.post(reverse("grants:change_request_new", args=[alloc.reference, "add_members"]), {
        "name_2": "Eve", "email_2": "eve@example.eu", "username_2": "root", "justification": "New hire"})
    assert response.status_code == 200
    assert "is reserved for the system" in " ".join(response.context["form"].errors["username_2"])
    assert not ChangeRequest.objects.exists()


def test_approval_refuses_a_name_that_a_site_reserved_since_the_request(queued, run_on_commit):
    member = f.applicant()
    alloc = f.allocation(member=member)
    cr = _ask(alloc, member, "bo")
    Site.objects.filter(code="zellik").update(reserved_usernames=["bo"])
    with run_on_commit(), pytest.raises(ValidationError):
        grants_services.change_request_decide(actor=f.manager(), change_request=cr, approve=True)
    assert not TeamMember.objects.filter(cluster_username="bo").exists()
    assert ChangeRequest.objects.get(pk=cr.pk).status == cr.status  # still waiting
    assert mail.outbox == [] and queued == []


def test_a_member_added_by_a_change_request_confirms_by_mail_before_reaching_slurm(client, queued, run_on_commit):
    member = f.applicant()
    alloc = f.allocation(member=member)
    cr = _ask(alloc, member, "bo")
    with run_on_commit():
        grants_services.change_request_decide(actor=f.manager(), change_request=cr, approve=True)
    bo = TeamMember.objects.get(application=alloc.application, cluster_username="bo")
    assert bo.confirmed_at is None and bo.invited_at is not None
    invitation = [m for m in mail.outbox if m.to == ["bo@example.com"]]
    assert len(invitation) == 1 and alloc.reference in invitation[0].subject
    assert "bo" not in grants_services.desired_users(alloc)
    assert all("bo" not in item.users for item in site_desired(f.site("zellik")) if hasattr(item, "users"))

    token = re.search(r"/team/confirm/(\S+)/", invitation[0].body).group(1)
    queued.clear()
    version = Allocation.objects.get(pk=alloc.pk).desired_version
    with run_on_commit():
        client.post(reverse("applications:team_confirm", args=[token]))
    assert TeamMember.objects.get(pk=bo.pk).confirmed_at is not None
    assert "bo" in grants_services.desired_users(alloc)
    assert any("bo" in item.users for item in site_desired(f.site("zellik")) if hasattr(item, "users"))
    alloc.refresh_from_db()
    assert alloc.desired_version == version + 1 and alloc.sync_state == SyncState.NEEDS_SYNC
    assert queued == [alloc.pk]


def test_confirming_a_member_of_a_draft_marks_nothing(applicant, queued, run_on_commit):
    app = f.draft(applicant)
    with run_on_commit():
        application_services.team_member_add(actor=applicant, application=app, full_name="Ines",
                                             email="ines@example.eu", cluster_username="ines")
    token = re.search(r"/team/confirm/(\S+)/", mail.outbox[0].body).group(1)
    with run_on_commit():
        application_services.team_member_confirm(token=token)
    assert queued == []
