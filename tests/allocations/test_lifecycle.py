"""The allocation lifecycle: start and expiry through the beat tasks, suspension, resumption and
revocation, change requests, and the desired-state marks for provisioning."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import ApplicationStatus, TeamMember
from allocations.catalogue.models import SiteCapacity
from allocations.grants import services as grants_services
from allocations.grants import tasks as grants_tasks
from allocations.grants.models import Allocation, AllocationStatus, ChangeKind, ChangeRequest, ChangeStatus, SyncState
from allocations.review import services as review_services
from compliance.services import condition_acknowledge
from portal.models import AuditEvent
from tests import factories as fr

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _events(alloc, action="allocation.status_changed"):
    return AuditEvent.objects.filter(action=action, object_id=str(alloc.pk))


# --- start and expiry -----------------------------------------------------------------------------

def test_start_waits_for_the_date_and_the_conditions(queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(status=AllocationStatus.APPROVED, start=TODAY, member=member,
                          sync_state=SyncState.IN_SYNC)
    condition = fr.add_condition(alloc.application)
    later = fr.allocation(status=AllocationStatus.APPROVED, start=TODAY + datetime.timedelta(days=3))
    with run_on_commit():
        assert grants_tasks.allocations_start_due() == 0
    assert Allocation.objects.get(pk=alloc.pk).status == AllocationStatus.APPROVED  # condition outstanding
    condition_acknowledge(actor=member, condition=condition)
    with run_on_commit():
        assert grants_tasks.allocations_start_due() == 1
    alloc.refresh_from_db()
    assert alloc.status == AllocationStatus.PROVISIONING
    assert alloc.sync_state == SyncState.NEEDS_SYNC and alloc.desired_version == 4
    assert queued == [alloc.pk]
    assert Allocation.objects.get(pk=later.pk).status == AllocationStatus.APPROVED
    assert _events(alloc).get().actor_id is None


def test_expiry_from_the_beat_task_goes_through_the_service(queued, run_on_commit, mailoutbox):
    member = fr.applicant()
    due = fr.allocation(status=AllocationStatus.ACTIVE, start=TODAY - datetime.timedelta(days=90),
                        end=TODAY, member=member)
    suspended = fr.allocation(status=AllocationStatus.SUSPENDED, start=TODAY - datetime.timedelta(days=90),
                              end=TODAY - datetime.timedelta(days=1))
    running = fr.allocation(status=AllocationStatus.ACTIVE, end=TODAY + datetime.timedelta(days=1))
    with run_on_commit():
        assert grants_tasks.allocations_expire_due() == 2
    due.refresh_from_db()
    assert due.status == AllocationStatus.EXPIRED and due.status_reason == "end date reached"
    assert Allocation.objects.get(pk=suspended.pk).status == AllocationStatus.EXPIRED
    assert Allocation.objects.get(pk=running.pk).status == AllocationStatus.ACTIVE
    event = _events(due).get()
    assert event.changes["status"] == ["active", "expired"]
    # Both change what the clusters do with the jobs (active -> expired: stop; suspended -> expired: the held
    # jobs are cancelled): both are provisioned again.
    assert sorted(queued) == sorted([due.pk, suspended.pk])
    assert any(member.email in m.to and "Expired" in m.subject for m in mailoutbox)
    # Idempotent: a second run changes nothing.
    assert grants_tasks.allocations_expire_due() == 0


# --- suspend, resume, revoke ----------------------------------------------------------------------

def test_suspend_resume_revoke_need_a_manager_and_a_reason(queued, run_on_commit):
    alloc = fr.allocation(status=AllocationStatus.ACTIVE)
    boss = fr.manager()
    for actor in (alloc.application.created_by, fr.reviewer(), None):
        with pytest.raises(PermissionDenied):
            grants_services.allocation_suspend(actor=actor, allocation=alloc, reason="misuse")
    with pytest.raises(ValidationError):
        grants_services.allocation_suspend(actor=boss, allocation=alloc, reason=" ")
    assert Allocation.objects.get(pk=alloc.pk).desired_version == 3
    with run_on_commit():
        grants_services.allocation_suspend(actor=boss, allocation=alloc, reason="Crypto mining reported by Zellik.")
    with run_on_commit():
        grants_services.allocation_resume(actor=boss, allocation=alloc)
    with pytest.raises(ValidationError):
        grants_services.allocation_revoke(actor=boss, allocation=alloc, reason="")
    with run_on_commit():
        grants_services.allocation_revoke(actor=boss, allocation=alloc, reason="Repeated misuse.")
    alloc.refresh_from_db()
    assert alloc.status == AllocationStatus.REVOKED and alloc.status_reason == "Repeated misuse."
    assert [e.changes["status"] for e in _events(alloc)] == [["active", "suspended"], ["suspended", "active"],
                                                             ["active", "revoked"]]
    assert alloc.desired_version == 6 and queued == [alloc.pk] * 3


def test_staff_allocation_page_offers_only_allowed_moves(client, queued, run_on_commit):
    alloc = fr.allocation(status=AllocationStatus.ACTIVE)
    client.force_login(fr.manager())
    url = reverse("grants:staff_allocation_detail", args=[alloc.reference])
    page = client.get(url).content.decode()
    assert 'value="suspend"' in page and 'value="revoke"' in page and 'value="resume"' not in page
    response = client.post(url, {"action": "suspend", "reason": ""})
    assert response.status_code == 200 and "Give a reason." in response.content.decode()
    with run_on_commit():
        response = client.post(url, {"action": "suspend", "reason": "Security incident"})
    assert response.status_code == 302
    assert Allocation.objects.get(pk=alloc.pk).status == AllocationStatus.SUSPENDED
    page = client.get(url).content.decode()
    assert 'value="resume"' in page and 'value="suspend"' not in page


# --- change requests ------------------------------------------------------------------------------

def _submit(alloc, member, kind, payload, justification="Results look promising."):
    return grants_services.change_request_submit(actor=member, allocation=alloc, kind=kind, payload=payload,
                                           justification=justification)


def test_extension(queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(member=member)
    new_end = alloc.end_date + datetime.timedelta(days=30)
    with pytest.raises(ValidationError):
        _submit(alloc, member, ChangeKind.EXTENSION, {"end_date": alloc.end_date.isoformat()})
    with pytest.raises(PermissionDenied):
        _submit(alloc, fr.UserFactory(), ChangeKind.EXTENSION, {"end_date": new_end.isoformat()})
    cr = _submit(alloc, member, ChangeKind.EXTENSION, {"end_date": new_end.isoformat()})
    with pytest.raises(PermissionDenied):
        grants_services.change_request_decide(actor=member, change_request=cr, approve=True)
    with run_on_commit():
        grants_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True, reason="OK")
    alloc.refresh_from_db()
    assert alloc.end_date == new_end and alloc.sync_state == SyncState.NEEDS_SYNC and alloc.desired_version == 4
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeStatus.APPROVED
    assert queued == [alloc.pk]


def test_top_up_within_capacity(queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(member=member, start=TODAY)
    cap = fr.set_capacity(period=TODAY, gpu_hours=3000)
    zellik = fr.site("zellik").pk
    cr = _submit(alloc, member, ChangeKind.TOP_UP, {"quotas": {str(zellik): {"gpu_hours": 2000}}})
    with run_on_commit():
        grants_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True)
    assert alloc.quotas.get().gpu_hours == 3000
    # The whole quota is now reserved, spread over the quarters from today to the end.
    assert fr.committed()[0] == 3000
    cap.refresh_from_db()
    held = cap.committed_gpu_hours
    assert 0 < held < 3000
    assert queued == [alloc.pk]
    # The next top-up does not fit in this quarter: refused, nothing changes.
    SiteCapacity.objects.filter(pk=cap.pk).update(gpu_hours=held + 1)
    cr2 = _submit(alloc, member, ChangeKind.TOP_UP, {"quotas": {str(zellik): {"gpu_hours": 1001}}})
    with pytest.raises(ValidationError, match="does not have enough capacity left"):
        grants_services.change_request_decide(actor=fr.manager(), change_request=cr2, approve=True)
    assert alloc.quotas.get().gpu_hours == 3000
    assert SiteCapacity.objects.get(pk=cap.pk).committed_gpu_hours == held
    assert fr.committed()[0] == 3000
    assert ChangeRequest.objects.get(pk=cr2.pk).status == ChangeStatus.SUBMITTED
    assert Allocation.objects.get(pk=alloc.pk).desired_version == 4


def test_a_top_up_of_storage_alone_raises_the_quota_and_its_reservation(queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(member=member, start=TODAY)
    fr.set_capacity(period=TODAY, gpu_hours=3000)
    zellik = fr.site("zellik").pk
    before = alloc.quotas.get().storage_tb
    cr = _submit(alloc, member, ChangeKind.TOP_UP, {"quotas": {str(zellik): {"storage_tb": "2.5"}}})
    assert cr.payload == {"quotas": {str(zellik): {"gpu_hours": 0, "cpu_core_hours": 0, "storage_tb": "2.50"}}}
    with run_on_commit():
        grants_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True)
    quota = alloc.quotas.get()
    assert quota.storage_tb == before + Decimal("2.5") and quota.gpu_hours == 1000
    # Storage is held in every quarter the allocation spans, and pushed by the next provisioning run.
    assert set(alloc.reservations.values_list("storage_tb", flat=True)) == {before + Decimal("2.5")}
    assert queued == [alloc.pk]
    assert Allocation.objects.get(pk=alloc.pk).sync_state == SyncState.NEEDS_SYNC


@pytest.mark.parametrize(("storage", "message"), [
    ("-1", "not negative"), ("1.234", "at most two decimals"), ("abc", "as a number"), ("NaN", "not negative"),
    ("1e400", "not negative"), ("999999.99", "at most 999,999.99 TB"), ("0", "Ask for more"),
])
def test_a_wrong_storage_top_up_is_refused_and_writes_nothing(storage, message):
    member = fr.applicant()
    alloc = fr.allocation(member=member, start=TODAY)
    zellik = fr.site("zellik").pk
    with pytest.raises(ValidationError, match=message):
        _submit(alloc, member, ChangeKind.TOP_UP, {"quotas": {str(zellik): {"storage_tb": storage}}})
    assert not ChangeRequest.objects.filter(allocation=alloc).exists()


def test_storage_is_not_asked_of_a_site_that_offers_none():
    from allocations.catalogue.models import Site

    member = fr.applicant()
    alloc = fr.allocation(member=member, start=TODAY)
    Site.objects.filter(code="zellik").update(offers_storage=False, storage_backend="none")
    with pytest.raises(ValidationError, match="offers no storage"):
        _submit(alloc, member, ChangeKind.TOP_UP, {"quotas": {str(fr.site("zellik").pk): {"storage_tb": "1"}}})


def test_add_members(queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(member=member)
    with pytest.raises(ValidationError):
        _submit(alloc, member, ChangeKind.ADD_MEMBERS, {"members": [
            {"full_name": "Bad", "email": "bad@example.com", "cluster_username": "Bad Name!"}]})
    cr = _submit(alloc, member, ChangeKind.ADD_MEMBERS, {"members": [
        {"full_name": "Bo Analyst", "email": "bo@example.com", "cluster_username": "bo"}]})
    with run_on_commit():
        grants_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True)
    assert TeamMember.objects.filter(application=alloc.application, cluster_username="bo").exists()
    assert "bo" not in grants_services.desired_users(alloc)  # not before confirming by mail
    assert queued == [alloc.pk]


def test_rejected_change_changes_nothing(queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(member=member)
    end = alloc.end_date
    cr = _submit(alloc, member, ChangeKind.EXTENSION, {"end_date": (end + datetime.timedelta(days=9)).isoformat()})
    with run_on_commit():
        grants_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=False, reason="No.")
    alloc.refresh_from_db()
    assert alloc.end_date == end and alloc.desired_version == 3 and queued == []


def test_change_request_pages(client, queued, run_on_commit):
    member = fr.applicant()
    alloc = fr.allocation(member=member)
    client.force_login(member)
    url = reverse("grants:change_request_new", args=[alloc.reference, "extension"])
    response = client.post(url, {"end_date": "", "justification": "More time"})
    assert "Give the new end date" in response.content.decode()
    new_end = alloc.end_date + datetime.timedelta(days=31)
    assert client.post(url, {"end_date": new_end.isoformat(), "justification": "More time"}).status_code == 302
    cr = ChangeRequest.objects.get(allocation=alloc)
    client.force_login(fr.manager())
    listing = client.get(reverse("grants:change_request_list")).content.decode()
    assert f"New end date: {new_end.isoformat()}" in listing
    with run_on_commit():
        client.post(reverse("grants:change_request_decide", args=[cr.pk]),
                    {f"cr{cr.pk}-decision": "approve", f"cr{cr.pk}-reason": "Fine"})
    assert Allocation.objects.get(pk=alloc.pk).end_date == new_end


def test_the_top_up_page_asks_for_storage_where_the_site_offers_it(client, queued, run_on_commit):
    from allocations.catalogue.models import Site

    member = fr.applicant()
    alloc = fr.allocation(member=member, start=TODAY)
    zellik = fr.site("zellik")
    client.force_login(member)
    url = reverse("grants:change_request_new", args=[alloc.reference, "top_up"])
    page = client.get(url).content.decode()
    assert f'name="storage_{zellik.pk}"' in page and "Extra storage on Zellik (TB)" in page
    refused = client.post(url, {f"storage_{zellik.pk}": "1.234", "justification": "Checkpoints"}).content.decode()
    assert "Ensure that there are no more than 2 decimal places." in refused
    assert not ChangeRequest.objects.filter(allocation=alloc).exists()
    assert client.post(url, {f"storage_{zellik.pk}": "3.5", "justification": "Checkpoints"}).status_code == 302
    cr = ChangeRequest.objects.get(allocation=alloc)
    assert cr.payload["quotas"][str(zellik.pk)]["storage_tb"] == "3.50"
    client.force_login(fr.manager())
    listing = client.get(reverse("grants:change_request_list")).content.decode()
    assert "Zellik: +0 GPU-hours, +0 CPU core-hours, +3.50 TB of storage" in listing
    # A site without storage offers no such field.
    Site.objects.filter(pk=zellik.pk).update(offers_storage=False, storage_backend="none")
    client.force_login(member)
    assert f'name="storage_{zellik.pk}"' not in client.get(url).content.decode()


# --- the applicant's allocation page ---------------------------------------------------------------

def test_applicant_sees_the_allocation_and_acknowledges_conditions(client, queued):
    member = fr.applicant()
    alloc = fr.allocation(status=AllocationStatus.APPROVED, member=member, start=TODAY)
    condition = fr.add_condition(alloc.application, "Pseudonymise patient records.")
    client.force_login(member)
    url = reverse("grants:allocation_detail", args=[alloc.reference])
    page = client.get(url).content.decode()
    assert alloc.slurm_account in page and "Pseudonymise patient records." in page
    assert "Zellik" in page and "1,000" in page
    username = alloc.application.team.get().cluster_username
    assert username in page
    response = client.post(reverse("grants:condition_acknowledge", args=[alloc.reference, condition.pk]))
    assert response.status_code == 302
    condition.refresh_from_db()
    assert condition.acknowledged_by == member
    assert alloc.reference in client.get(reverse("grants:allocation_list")).content.decode()
    # Another organisation's member sees nothing.
    client.force_login(fr.applicant())
    assert client.get(url).status_code == 404
    assert client.post(reverse("grants:condition_acknowledge", args=[alloc.reference, condition.pk])) \
        .status_code == 404


# --- desired-state marks: same transaction, provisioning queued on commit --------------------------

def _approve(boss):
    fr.set_capacity()
    app = fr.awaiting_decision(requests={"zellik": 1000})
    return lambda: review_services.application_approve(
        actor=boss, application=app, quotas={fr.site().pk: {"gpu_hours": 900, "cpu_core_hours": 0,
                                                             "storage_tb": Decimal("0")}})


CHANGES = {
    "approve": (None, _approve),
    "start": (AllocationStatus.APPROVED, lambda boss, a: lambda: grants_services.allocation_start_if_due(allocation=a)),
    "suspend": (AllocationStatus.ACTIVE, lambda boss, a: lambda: grants_services.allocation_suspend(
        actor=boss, allocation=a, reason="r")),
    "resume": (AllocationStatus.SUSPENDED, lambda boss, a: lambda: grants_services.allocation_resume(
        actor=boss, allocation=a)),
    "revoke": (AllocationStatus.ACTIVE, lambda boss, a: lambda: grants_services.allocation_revoke(
        actor=boss, allocation=a, reason="r")),
    "expire": (AllocationStatus.ACTIVE, lambda boss, a: lambda: grants_services.allocation_expire_if_due(
        allocation=a, today=a.end_date)),
    "change": (AllocationStatus.ACTIVE, lambda boss, a: lambda: grants_services.change_request_decide(
        actor=boss, approve=True, change_request=grants_services.change_request_submit(
            actor=a.application.created_by, allocation=a, kind=ChangeKind.EXTENSION, justification="j",
            payload={"end_date": (a.end_date + datetime.timedelta(days=5)).isoformat()}))),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_cluster_changes_mark_needs_sync_and_queue_provisioning_on_commit(
        change, queued, django_capture_on_commit_callbacks):
    boss = fr.manager()
    status, make = CHANGES[change]
    if status is None:
        call, before = make(boss), None
    else:
        alloc = fr.allocation(status=status, start=TODAY, sync_state=SyncState.IN_SYNC)
        before = alloc.desired_version
        call = make(boss, alloc)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = call()
        alloc = Allocation.objects.get(pk=getattr(result, "allocation_id", None) or result.pk)
        # Inside the deciding transaction: the mark is written, provisioning not yet asked.
        assert alloc.sync_state == SyncState.NEEDS_SYNC
        assert alloc.desired_version == (before + 1 if before is not None else 2)
        assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [alloc.pk]


def test_a_refused_change_leaves_no_mark(queued, django_capture_on_commit_callbacks):
    alloc = fr.allocation(status=AllocationStatus.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationError):
            grants_services.allocation_suspend(actor=fr.manager(), allocation=alloc, reason="")
        with pytest.raises(ValidationError):
            grants_services.allocation_transition(actor=fr.manager(), allocation=alloc, to=AllocationStatus.APPROVED)
    alloc.refresh_from_db()
    assert (alloc.sync_state, alloc.desired_version, queued) == (SyncState.IN_SYNC, 3, [])


def test_approved_application_status_is_approved():
    fr.set_capacity()
    boss = fr.manager()
    alloc = _approve(boss)()
    assert alloc.application.status == ApplicationStatus.APPROVED


def test_applicant_withdraws_a_submitted_change_request_from_the_allocation_page(client, queued):
    member = fr.applicant()
    alloc = fr.allocation(member=member)
    cr = _submit(alloc, member, ChangeKind.EXTENSION, {"end_date": (alloc.end_date + datetime.timedelta(days=30))
                                                       .isoformat()})
    url = reverse("grants:change_request_withdraw", args=[alloc.reference, cr.pk])
    client.force_login(fr.applicant())  # another organisation
    assert client.post(url).status_code == 404
    client.force_login(member)
    page = client.get(reverse("grants:allocation_detail", args=[alloc.reference])).content.decode()
    assert url in page
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "Change request withdrawn." in response.content.decode()
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeStatus.WITHDRAWN
    assert url not in response.content.decode()  # only open requests offer the button
    client.post(url)
    assert _events(alloc, "change_request.withdrawn").count() == 1


def test_a_decided_change_request_cannot_be_withdrawn_from_the_page(client, queued):
    member = fr.applicant()
    alloc = fr.allocation(member=member)
    cr = _submit(alloc, member, ChangeKind.EXTENSION, {"end_date": (alloc.end_date + datetime.timedelta(days=30))
                                                       .isoformat()})
    grants_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=False, reason="No.")
    client.force_login(member)
    response = client.post(reverse("grants:change_request_withdraw", args=[alloc.reference, cr.pk]), follow=True)
    assert "A change request that is Rejected cannot become Withdrawn." in response.content.decode()
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeStatus.REJECTED
