"""Erasure and export of a person named in application teams, change requests and provisioning records,
and of the reviews a person wrote."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.core import serializers
from django.urls import reverse

from accounts.privacy import user_erase
from allocations.applications import services as application_services
from allocations.applications.models import ApplicationStatus, TeamMember
from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants import services as grant_services
from allocations.grants.models import AllocationQuota, ChangeKind, ChangeRequest, SyncState
from allocations.provisioning.models import HandoverTask, RecordedChange, SiteReadback, SyncAttempt
from allocations.provisioning.services import read_site_state, sync_allocation
from portal.audit import verify_chain
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

EMAIL = "Zora.Zimmerwald@example.eu"
NAME = "Zora Zimmerwald"
USERNAME = "zorazim"


def _dump() -> str:
    chunks = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        chunks.append(serializers.serialize("json", model._default_manager.all()))
    return "\n".join(chunks).lower()


@pytest.fixture
def zora():
    return f.UserFactory(email=EMAIL, full_name=NAME)


@pytest.fixture
def granted(zora):
    """An allocation provisioned through the record backend with Zora confirmed in its team, and a change
    request (approved) that named her for a second allocation of the same organisation."""
    allocation, manager, applicant = f.approved_allocation(users=(USERNAME, "bob"))
    TeamMember.objects.filter(cluster_username=USERNAME).update(email=EMAIL.lower(), full_name=NAME)
    sync_allocation(allocation_id=allocation.pk)
    assert RecordedChange.objects.filter(account=allocation.slurm_account, change__icontains=USERNAME).exists()
    return allocation, manager, applicant


def test_export_lists_the_teams_a_person_is_in_and_the_reviews_they_wrote(client, zora, applicant):
    app = f.draft(applicant)
    application_services.team_member_add(actor=applicant, application=app, full_name=NAME, email=EMAIL,
                                         cluster_username=USERNAME)
    reviewed = f.application(status=ApplicationStatus.IN_REVIEW)
    reviewer = f.reviewer(email="reviewer-zora@panel.example")
    f.submit_review(reviewed, reviewer, for_committee="Strong team, weak data plan.",
                    for_applicant="Explain the data plan.")

    client.force_login(zora)
    data = json.loads(client.get(reverse("accounts:privacy_export")).content)
    assert data["team_memberships"] == [{
        "application": app.reference, "full_name": NAME, "email": EMAIL.lower(), "cluster_username": USERNAME,
        "invited_at": data["team_memberships"][0]["invited_at"], "confirmed_at": None}]

    # What a reviewer wrote names another organisation's application: like the staff pages, it needs the
    # second factor.
    f.sign_in_without_second_factor(client, reviewer)
    data = json.loads(client.get(reverse("accounts:privacy_export")).content)
    assert "reviews" not in data and reviewed.reference not in json.dumps(data)
    assert "sign in with your second factor" in data["staff_work_left_out"]
    client.force_login(reviewer)  # with the second factor, as allauth's sign-in records it
    data = json.loads(client.get(reverse("accounts:privacy_export")).content)
    assert "staff_work_left_out" not in data
    [row] = data["reviews"]
    assert row["application"] == reviewed.reference and row["status_label"] == "Review submitted"
    assert row["review"]["comments_for_committee"] == "Strong team, weak data plan."
    assert row["review"]["comments_for_applicant"] == "Explain the data plan."
    assert row["review"]["recommendation_label"] == "Approve"


def test_erasure_pseudonymises_the_person_in_every_team(zora, applicant):
    draft = f.draft(applicant)
    application_services.team_member_add(actor=applicant, application=draft, full_name=NAME, email=EMAIL,
                                         cluster_username=USERNAME)
    other = f.draft(f.applicant())
    linked = TeamMember.objects.create(application=other, full_name="Z. Z.", email="old-address@example.eu",
                                       cluster_username="zz", user=zora)  # her account, an older address

    user_erase(actor=zora, user=zora)

    for member in TeamMember.objects.filter(pk__in=[linked.pk, *draft.team.values_list("pk", flat=True)]):
        assert member.full_name == f"Erased user #{zora.pk}"
        assert member.email.endswith("@erased.invalid")
        assert member.cluster_username == f"erased-{member.pk}"
        assert member.erased_at is not None and member.token_hash == ""
    dump = _dump()
    assert EMAIL.lower() not in dump and "zimmerwald" not in dump and USERNAME not in dump
    assert "old-address@example.eu" not in dump
    assert verify_chain().ok


def test_erasure_takes_a_confirmed_member_off_the_clusters_and_out_of_the_records(zora, granted):
    allocation, manager, applicant = granted
    version = allocation.desired_version
    assert USERNAME in grant_services.desired_users(allocation)

    user_erase(actor=f.AdminFactory(totp=True), user=zora)

    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.NEEDS_SYNC and allocation.desired_version == version + 1
    assert grant_services.desired_users(allocation) == ["bob"]
    assert USERNAME not in _dump()
    # The next run takes the pseudonym out of the account (the name a real cluster holds would be
    # taken out the same way) and the record backend's state follows.
    sync_allocation(allocation_id=allocation.pk)
    latest = RecordedChange.objects.filter(account=allocation.slurm_account).order_by("-recorded_at", "-pk").first()
    assert latest.change["state"]["users"] == ["bob"]
    assert SyncAttempt.objects.filter(allocation=allocation).latest("started_at").outcome != "error"
    assert USERNAME not in _dump()


def test_erasure_pseudonymises_the_change_requests_that_named_the_person(zora, granted):
    allocation, manager, applicant = granted
    cr = grant_services.change_request_submit(
        actor=applicant, allocation=allocation, kind=ChangeKind.ADD_MEMBERS, justification="A new engineer",
        payload={"members": [{"full_name": NAME, "email": EMAIL, "cluster_username": "zora2"},
                             {"full_name": "Bert Other", "email": "bert@example.eu", "cluster_username": "bert"}]})

    user_erase(actor=zora, user=zora)

    cr = ChangeRequest.objects.get(pk=cr.pk)
    assert cr.payload["members"][1] == {"full_name": "Bert Other", "email": "bert@example.eu",
                                        "cluster_username": "bert"}
    erased = cr.payload["members"][0]
    assert erased["full_name"] == f"Erased user #{zora.pk}" and erased["email"].endswith("@erased.invalid")
    assert erased["cluster_username"].startswith("erased-")
    dump = _dump()
    assert EMAIL.lower() not in dump and "zimmerwald" not in dump and "zora2" not in dump


def test_team_and_change_request_events_name_nobody(applicant, granted):
    """The chain cannot be erased, so what it records about a team holds ids and counts only."""
    allocation, manager, owner = granted
    app = f.draft(applicant)
    member = application_services.team_member_add(actor=applicant, application=app, full_name=NAME, email=EMAIL,
                                                  cluster_username=USERNAME)
    application_services.team_member_remove(actor=applicant, member=member)
    grant_services.change_request_submit(
        actor=owner, allocation=allocation, kind=ChangeKind.ADD_MEMBERS, justification="A new engineer",
        payload={"members": [{"full_name": NAME, "email": EMAIL, "cluster_username": "zora2"}]})
    events = AuditEvent.objects.filter(action__in=["team_member.added", "team_member.removed",
                                                   "change_request.submitted"])
    assert events.count() == 3
    text = json.dumps([e.changes for e in events]).lower()
    assert "zora" not in text and "zimmerwald" not in text
    assert events.get(action="change_request.submitted").changes["payload"] == {"members": 1}


def test_erasure_reaches_the_stored_read_of_a_site_and_the_hand_over_lines(zora, granted, settings):
    allocation, _manager, _applicant = granted
    zellik = Site.objects.get(code="zellik")
    read_site_state(site=zellik)
    assert USERNAME in json.dumps(SiteReadback.objects.get(site=zellik).rows)
    settings.AIF_SLURM_BACKEND = ""
    charleroi = Site.objects.get(code="charleroi")
    Site.objects.filter(pk=charleroi.pk).update(provisioning_mode=ProvisioningMode.HANDOVER)
    AllocationQuota.objects.create(allocation=allocation, site=charleroi, gpu_hours=1)
    sync_allocation(allocation_id=allocation.pk)
    task = HandoverTask.objects.get(allocation=allocation)
    assert any(USERNAME in line for line in task.commands) and any(USERNAME in r["value"] for r in task.fields)

    user_erase(actor=f.AdminFactory(totp=True), user=zora)

    assert USERNAME not in _dump()
    task.refresh_from_db()
    assert any("add user erased-" in line for line in task.commands)
