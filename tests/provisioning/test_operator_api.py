"""/api/v1/staff/provisioning/: operators only (with a second factor); every action is one service call
that writes one audit event and queues its task once the transaction commits."""

import pytest
from rest_framework.test import APIClient

from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants.models import SyncState
from allocations.provisioning.models import HandoverTask, RecordedChange, SyncAttempt, SyncAttemptKind, SyncOutcome
from allocations.provisioning.services import read_site_state, reconcile_site, sync_allocation
from portal.models import AuditEvent
from tests import factories as f
from tests.factories import approved_allocation

pytestmark = pytest.mark.django_db

BASE = "/api/v1/staff/provisioning"


@pytest.fixture(autouse=True)
def _record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""  # every direct site on its own (record) backend


@pytest.fixture
def queued(monkeypatch):
    """The tasks' queue, at the boundary: what was sent to the broker."""
    sent = {"provision": [], "reconcile": []}
    monkeypatch.setattr("allocations.provisioning.tasks.provision_allocation.delay",
                        lambda *a, **k: sent["provision"].append(a))
    monkeypatch.setattr("allocations.provisioning.tasks.slurm_reconcile_site.delay",
                        lambda *a, **k: sent["reconcile"].append(a))
    return sent


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(**f.auth(f.token(user)))
    client.get("/api/v1/me/")  # records the token's last use: later requests within a minute do not write
    return client


@pytest.fixture
def operator_user():
    return f.OperatorFactory(totp=True)


@pytest.fixture
def operator(operator_user):
    return client_for(operator_user)


@pytest.fixture
def allocation():
    return approved_allocation()[0]


@pytest.fixture
def handover():
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    allocation = approved_allocation(sites=("charleroi",))[0]
    sync_allocation(allocation_id=allocation.pk)
    return HandoverTask.objects.get(allocation=allocation)


def provisioning_events():
    return AuditEvent.objects.filter(action__startswith="provisioning.")


# ------------------------------------------------------------------------------------ permissions

ENDPOINTS = [
    ("get", lambda a, h: f"{BASE}/sites/"),
    ("get", lambda a, h: f"{BASE}/sites/zellik/drift/"),
    ("post", lambda a, h: f"{BASE}/sites/zellik/reconcile/"),
    ("post", lambda a, h: f"{BASE}/allocations/{a.reference}/rerun/"),
    ("get", lambda a, h: f"{BASE}/handovers/"),
    ("post", lambda a, h: f"{BASE}/handovers/{h.pk}/done/"),
]


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_only_operators_with_a_second_factor(method, path, allocation, handover, queued,
                                             django_capture_on_commit_callbacks):
    url = path(allocation, handover)
    refused = [
        (f.applicant(), "permission_denied"),
        (f.AllocationManagerFactory(totp=True), "permission_denied"),
        (f.OperatorFactory(totp=False), "mfa_required"),  # no authenticator
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for user, code in refused:
            response = getattr(client_for(user), method)(url)
            assert response.status_code == 403, (user, url)
            assert response.json()["error"]["code"] == code
    assert not provisioning_events().exists() and queued == {"provision": [], "reconcile": []}
    assert HandoverTask.objects.get(pk=handover.pk).done_at is None
    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client_for(f.OperatorFactory(totp=True)), method)(url)
    assert response.status_code in (200, 202), response.json()


def test_unauthenticated_is_401():
    assert APIClient().get(f"{BASE}/sites/").status_code == 401


# ------------------------------------------------------------------------------------ reads

def test_sites_list_counts_allocations_per_sync_state_and_the_last_full_reconcile(operator, allocation):
    sync_allocation(allocation_id=allocation.pk)
    zellik = Site.objects.get(code="zellik")
    reconcile_site(site=zellik)
    newest = reconcile_site(site=zellik)
    rows = {row["code"]: row for row in operator.get(f"{BASE}/sites/").json()["results"]}
    assert rows["zellik"]["sync_counts"] == {"in_sync": 1, "needs_sync": 0, "error": 0, "handed_over": 0}
    assert rows["zellik"]["last_full_reconcile"]["id"] == newest.pk
    assert rows["zellik"]["last_full_reconcile"]["outcome"] == SyncOutcome.NOOP
    assert rows["zellik"]["backend"] == "record" and rows["zellik"]["cluster"] == zellik.slurm_cluster
    assert rows["charleroi"]["last_full_reconcile"] is None


def test_drift_rows_come_from_the_planner(operator, allocation):
    sync_allocation(allocation_id=allocation.pk)
    zellik = Site.objects.get(code="zellik")
    assert operator.get(f"{BASE}/sites/zellik/drift/").json()["read_at"] is None  # never read yet
    read_site_state(site=zellik)
    body = operator.get(f"{BASE}/sites/zellik/drift/").json()
    assert body["read_at"] is not None
    assert body["in_sync"] is True and body["changes"] == [] and body["error"] == ""
    assert not any(row["differs"] for row in body["rows"])
    blocked = next(r for r in body["rows"] if r["account"] == f"org_{allocation.organisation_id}")
    assert blocked == {"account": f"org_{allocation.organisation_id}", "field": "parent", "label": "Parent account",
                       "desired": "root", "actual": "root", "differs": False}

    RecordedChange.objects.filter(account=allocation.slurm_account).delete()  # the account vanished from Slurm
    read_site_state(site=zellik)
    body = operator.get(f"{BASE}/sites/zellik/drift/").json()
    assert body["in_sync"] is False
    lost = [r for r in body["rows"] if r["account"] == allocation.slurm_account]
    assert lost and all(r["differs"] and r["actual"] is None for r in lost)
    assert any(c.startswith(f"zellik: add account {allocation.slurm_account}") for c in body["changes"])


def test_drift_of_a_hand_over_site_is_not_read(operator, handover):
    body = operator.get(f"{BASE}/sites/charleroi/drift/").json()
    assert body["readable"] is False and body["in_sync"] is None and body["rows"] == []


def test_open_handovers_are_listed(operator, handover):
    rows = operator.get(f"{BASE}/handovers/").json()["results"]
    assert [(r["id"], r["site"], r["allocation"]) for r in rows] == [
        (handover.pk, "charleroi", handover.allocation.reference)]
    assert any(c["name"] == handover.allocation.slurm_account for c in rows[0]["changes"])


@pytest.mark.parametrize("n", [3, 30])
def test_list_query_counts_do_not_grow_with_the_rows(n, operator, django_assert_num_queries):
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    sites = list(Site.objects.all())
    for i in range(n):
        allocation = f.bare_allocation(f.OrganisationFactory(), f.UserFactory(), usage=False)
        allocation.quotas.create(site=Site.objects.get(code="charleroi"), gpu_hours=1, cpu_core_hours=1)
        HandoverTask.objects.create(site=Site.objects.get(code="charleroi"), allocation=allocation, changes=[],
                                    desired_version=1)
        SyncAttempt.objects.create(site=sites[i % len(sites)], kind=SyncAttemptKind.FULL_RECONCILE,
                                   outcome=SyncOutcome.NOOP, drift=["x"] * i)
    # token, roles, second factor; then count, page of sites, sync counts, last full reconciles
    with django_assert_num_queries(7):
        assert operator.get(f"{BASE}/sites/").status_code == 200
    # token, roles, second factor; then count, page of tasks with their site and allocation
    with django_assert_num_queries(5):
        response = operator.get(f"{BASE}/handovers/?page_size=100")
    assert response.status_code == 200 and response.json()["count"] == n


# ------------------------------------------------------------------------------------ actions

def test_reconcile_writes_one_audit_event_and_queues_on_commit(operator, operator_user, queued,
                                                               django_capture_on_commit_callbacks):
    zellik = Site.objects.get(code="zellik")
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator.post(f"{BASE}/sites/zellik/reconcile/")
    assert response.status_code == 202 and "Zellik" in response.json()["message"]
    assert queued["reconcile"] == [], "nothing is queued before the commit"
    for callback in callbacks:
        callback()
    assert queued == {"provision": [], "reconcile": [(zellik.pk,)]}
    event = provisioning_events().get()
    assert (event.action, event.object_id, event.actor_id) == (
        "provisioning.reconcile_requested", str(zellik.pk), operator_user.pk)


def test_rerun_writes_one_audit_event_and_queues_on_commit(operator, allocation, queued,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator.post(f"{BASE}/allocations/{allocation.reference}/rerun/")
    assert response.status_code == 202
    assert queued["provision"] == []
    for callback in callbacks:
        callback()
    assert queued == {"provision": [(allocation.pk,)], "reconcile": []}
    event = provisioning_events().get()
    assert (event.action, event.object_id, event.changes) == (
        "provisioning.rerun_requested", str(allocation.pk), {"sites": ["zellik"]})


def test_handover_done_writes_one_audit_event_and_syncs(operator, handover, queued,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"{BASE}/handovers/{handover.pk}/done/", {"note": "set up at LUMI"}, format="json")
    assert response.status_code == 200
    assert response.json()["done_at"] and response.json()["note"] == "set up at LUMI"
    assert provisioning_events().get().action == "provisioning.handover_done"
    assert queued == {"provision": [], "reconcile": []}
    handover.allocation.refresh_from_db()
    assert handover.allocation.sync_state == SyncState.IN_SYNC
    with django_capture_on_commit_callbacks(execute=True):  # again: nothing changes, nothing is recorded twice
        assert operator.post(f"{BASE}/handovers/{handover.pk}/done/").status_code == 200
    assert provisioning_events().count() == 1


def assert_nothing_changed(queued):
    assert not provisioning_events().exists()
    assert queued == {"provision": [], "reconcile": []}


@pytest.mark.parametrize("code", ["charleroi", "inactive"])
def test_reconcile_of_a_hand_over_or_inactive_site_is_400(code, operator, queued, django_capture_on_commit_callbacks):
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    Site.objects.filter(code="zellik").update(is_active=False)
    code = "zellik" if code == "inactive" else code
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"{BASE}/sites/{code}/reconcile/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    assert_nothing_changed(queued)


def test_rerun_of_an_allocation_without_a_direct_site_is_400(operator, handover, queued,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"{BASE}/allocations/{handover.allocation.reference}/rerun/")
    assert response.status_code == 400
    assert "nothing to re-run" in response.json()["error"]["message"]
    assert_nothing_changed(queued)


@pytest.mark.parametrize("path", [
    "/sites/nowhere/reconcile/", "/sites/nowhere/drift/", "/allocations/AIF-2000-0001/rerun/",
    "/handovers/999999/done/", "/allocations/not-a-reference/rerun/",
])
def test_unknown_objects_are_404(path, operator, queued, django_capture_on_commit_callbacks):
    method = operator.get if path.endswith("drift/") else operator.post
    with django_capture_on_commit_callbacks(execute=True):
        response = method(f"{BASE}{path}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert_nothing_changed(queued)


def test_handover_note_too_long_is_400_and_changes_nothing(operator, handover, queued,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"{BASE}/handovers/{handover.pk}/done/", {"note": "x" * 2001}, format="json")
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
    assert HandoverTask.objects.get(pk=handover.pk).done_at is None
    assert_nothing_changed(queued)


def test_a_storage_task_is_listed_with_its_request_and_confirmed_through_the_api(operator):
    """Storage hand-overs go through the same endpoints: kind "storage", the request as changes."""
    allocation = f.allocation(sync_state=SyncState.NEEDS_SYNC)
    sync_allocation(allocation_id=allocation.pk)
    [row] = [r for r in operator.get(f"{BASE}/handovers/").json()["results"] if r["kind"] == "storage"]
    assert row["changes"]["path"] == f"/projects/{allocation.slurm_account}"
    assert (row["changes"]["group"], row["changes"]["quota_tb"]) == (allocation.slurm_account, "2.00")
    assert operator.post(f"{BASE}/handovers/{row['id']}/done/", {"note": "set"}, format="json").status_code == 200
    storage = allocation.storage.get()
    assert storage.provisioned_tb == 2 and storage.status == "provisioned"
    assert AuditEvent.objects.filter(action="storage.provisioned").count() == 1
