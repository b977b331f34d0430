"""The applicant's allocations: quotas, provisioning status, usage, conditions and change requests."""

import pytest

from accounts.models import Membership
from allocations.grants.models import ChangeRequest, ChangeStatus
from allocations.grants.services import change_request_decide, change_request_submit
from compliance.models import EthicsCondition, EthicsReview, EthicsStatus
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def alloc(applicant):
    return f.bare_allocation(Membership.objects.get(user=applicant).organisation, applicant)


def test_list_and_detail_show_quotas_provisioning_and_latest_usage(as_user, applicant, outsider, alloc):
    f.bare_allocation(Membership.objects.get(user=outsider).organisation, outsider)
    client = as_user(applicant)
    rows = client.get("/api/v1/allocations/").json()["results"]
    assert [r["reference"] for r in rows] == [alloc.reference]
    row = rows[0]
    assert row["quotas"] == [{"site": "zellik", "gpu_hours": 1000, "cpu_core_hours": 500, "storage_tb": "0.00"}]
    assert row["provisioning"]["sync_state"] == "in_sync"
    assert row["provisioning"]["last_attempt"]["outcome"] == "success"
    assert [(u["site"], u["gpu_hours_used"]) for u in row["usage"]] == [("zellik", 20.0)]
    detail = client.get(f"/api/v1/allocations/{alloc.reference}/").json()
    assert detail["usage"] == row["usage"] and detail["conditions"] == []


def test_other_organisations_allocations_are_404(as_user, outsider, alloc):
    client = as_user(outsider)
    assert client.get(f"/api/v1/allocations/{alloc.reference}/").status_code == 404
    assert client.get(f"/api/v1/allocations/{alloc.reference}/change-requests/").status_code == 404
    assert client.post(f"/api/v1/allocations/{alloc.reference}/change-requests/",
                       {"kind": "extension", "justification": "x", "end_date": "2100-01-01"},
                       format="json").status_code == 404


def test_allocation_filters(as_user, applicant, alloc):
    client = as_user(applicant)
    assert client.get("/api/v1/allocations/?status=suspended").json()["count"] == 0
    assert client.get("/api/v1/allocations/?sync_state=in_sync").json()["count"] == 1
    assert client.get("/api/v1/allocations/?status=gone").status_code == 400


def test_change_requests_submit_and_list(as_user, applicant, alloc):
    client = as_user(applicant)
    base = f"/api/v1/allocations/{alloc.reference}/change-requests/"
    later = alloc.end_date.replace(year=alloc.end_date.year + 1).isoformat()
    response = client.post(base, {"kind": "extension", "justification": "More epochs", "end_date": later},
                           format="json")
    assert response.status_code == 201 and response.json()["payload"] == {"end_date": later}
    topup = client.post(base, {"kind": "top_up", "justification": "Bigger model",
                               "quotas": [{"site": "zellik", "gpu_hours": 500}]}, format="json")
    assert topup.status_code == 201
    members = client.post(base, {"kind": "add_members", "justification": "New hire",
                                 "members": [{"full_name": "Bo", "email": "bo@example.eu",
                                              "cluster_username": "bo"}]}, format="json")
    assert members.status_code == 201
    assert client.get(base).json()["count"] == 3
    assert client.get(base + "?kind=top_up").json()["count"] == 1


def test_change_request_validation(as_user, applicant, alloc):
    client = as_user(applicant)
    base = f"/api/v1/allocations/{alloc.reference}/change-requests/"
    earlier = client.post(base, {"kind": "extension", "justification": "x", "end_date": "2000-01-01"}, format="json")
    assert earlier.status_code == 400 and "end_date" in earlier.json()["error"]["fields"]
    empty = client.post(base, {"kind": "top_up", "justification": "x", "quotas": []}, format="json")
    assert "quotas" in empty.json()["error"]["fields"]
    unjustified = client.post(base, {"kind": "extension", "justification": "", "end_date": "2100-01-01"},
                              format="json")
    assert "justification" in unjustified.json()["error"]["fields"]
    assert client.post(base, {"kind": "teleport", "justification": "x"}, format="json").status_code == 400
    for storage in ("-1", "1.234", "abc", "NaN", "1e9"):
        hostile = client.post(base, {"kind": "top_up", "justification": "x",
                                     "quotas": [{"site": "zellik", "storage_tb": storage}]}, format="json")
        assert hostile.status_code == 400, (storage, hostile.json())
        assert "quotas.0.storage_tb" in hostile.json()["error"]["fields"], (storage, hostile.json())
    assert not ChangeRequest.objects.exists()
    storage = client.post(base, {"kind": "top_up", "justification": "Checkpoints",
                                 "quotas": [{"site": "zellik", "storage_tb": "1.5"}]}, format="json")
    assert storage.status_code == 201
    assert storage.json()["payload"]["quotas"][str(alloc.quotas.get(site__code="zellik").site_id)] == {
        "gpu_hours": 0, "cpu_core_hours": 0, "storage_tb": "1.50"}


def test_condition_acknowledgement(as_user, applicant, outsider, alloc):
    review = EthicsReview.objects.create(application=alloc.application, status=EthicsStatus.CLEARED_WITH_CONDITIONS)
    condition = EthicsCondition.objects.create(review=review, text="Delete raw images")
    path = f"/api/v1/allocations/{alloc.reference}/conditions/{condition.pk}/acknowledge/"
    assert as_user(applicant).get(f"/api/v1/allocations/{alloc.reference}/").json()["conditions"][0][
        "acknowledged_at"] is None
    assert as_user(outsider).post(path).status_code == 404
    response = as_user(applicant).post(path)
    assert response.status_code == 200 and response.json()["acknowledged_at"]
    assert as_user(applicant).post(f"/api/v1/allocations/{alloc.reference}/conditions/999999/acknowledge/") \
        .status_code == 404


def _extension(alloc, member):
    later = alloc.end_date.replace(year=alloc.end_date.year + 1).isoformat()
    return change_request_submit(actor=member, allocation=alloc, kind="extension", payload={"end_date": later},
                                 justification="More epochs")


def test_withdraw_a_change_request_once(as_user, applicant, alloc):
    cr = _extension(alloc, applicant)
    colleague = f.applicant(alloc.organisation, owner=False)  # any member of the organisation may withdraw
    path = f"/api/v1/allocations/{alloc.reference}/change-requests/{cr.pk}/withdraw/"
    response = as_user(colleague).post(path)
    assert response.status_code == 200 and response.json()["status"] == ChangeStatus.WITHDRAWN
    assert as_user(applicant).post(path).json()["status"] == ChangeStatus.WITHDRAWN  # a no-op
    events = AuditEvent.objects.filter(action="change_request.withdrawn")
    assert events.count() == 1
    assert events.get().actor_id == colleague.pk and events.get().changes["change_request_id"] == cr.pk
    assert events.get().object_id == str(alloc.pk)


def test_withdraw_is_404_outside_the_organisation_and_409_once_decided(as_user, applicant, outsider, boss, alloc):
    cr = _extension(alloc, applicant)
    path = f"/api/v1/allocations/{alloc.reference}/change-requests/{cr.pk}/withdraw/"
    assert as_user(outsider).post(path).status_code == 404
    assert as_user(boss).post(path).status_code == 404  # managers decide; they do not withdraw
    other = f.bare_allocation(Membership.objects.get(user=outsider).organisation, outsider)
    assert as_user(applicant).post(
        f"/api/v1/allocations/{other.reference}/change-requests/{cr.pk}/withdraw/").status_code == 404
    assert as_user(applicant).post(
        f"/api/v1/allocations/{alloc.reference}/change-requests/999999/withdraw/").status_code == 404
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeStatus.SUBMITTED
    change_request_decide(actor=boss, change_request=cr, approve=False, reason="No capacity")
    response = as_user(applicant).post(path)
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeStatus.REJECTED
    assert not AuditEvent.objects.filter(action="change_request.withdrawn").exists()


def test_withdraw_needs_the_write_scope(as_user, applicant, alloc):
    cr = _extension(alloc, applicant)
    response = as_user(applicant, scopes=["read"]).post(
        f"/api/v1/allocations/{alloc.reference}/change-requests/{cr.pk}/withdraw/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"
    assert ChangeRequest.objects.get(pk=cr.pk).status == ChangeStatus.SUBMITTED
