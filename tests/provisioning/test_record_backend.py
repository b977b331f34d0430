"""The embedded default: the same reconcile path against the backend that records intended changes."""

import pytest

from allocations.grants import services
from allocations.grants.models import Allocation, AllocationStatus, SyncState
from allocations.provisioning.models import RecordedChange, SyncAttempt
from allocations.provisioning.services import reconcile_site, sync_allocation
from tests.factories import approved_allocation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""  # every site keeps its default backend: record


def state(allocation):
    row = RecordedChange.objects.filter(account=allocation.slurm_account).order_by("-recorded_at", "-pk").first()
    return row.change["state"]


def test_approval_queues_provisioning_on_commit_and_the_account_starts_blocked(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        allocation, _manager, _ = approved_allocation(gpu=100, cpu=1000, users=("alice", "bob"))
    assert len(callbacks) >= 1
    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.IN_SYNC
    snap = state(allocation)
    assert snap["limits"] == {"cpu": 60_000, "gres/gpu": 6_000}
    assert snap["grp_submit_jobs"] == 0, "not started: jobs refused"
    assert snap["users"] == ["alice", "bob"]
    assert snap["parent"] == f"org_{allocation.organisation_id}"
    assert SyncAttempt.objects.filter(allocation=allocation, outcome="success").count() == 1


def test_start_opens_the_account_and_suspension_blocks_it_again(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        allocation, manager, _ = approved_allocation()
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_start_if_due(allocation=allocation)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE, "verified provisioning activates the allocation"
    assert state(allocation)["grp_submit_jobs"] is None
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_suspend(actor=manager, allocation=allocation, reason="abuse report")
    assert state(allocation)["grp_submit_jobs"] == 0
    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.IN_SYNC and allocation.synced_version == allocation.desired_version


def test_second_sync_is_a_noop_and_drift_is_reported_then_fixed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        allocation, _manager, _ = approved_allocation()
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    assert SyncAttempt.objects.filter(allocation=allocation).first().outcome == "noop"
    # Someone changes the limit behind the portal's back.
    snap = state(allocation)
    snap["limits"]["gres/gpu"] = 1
    RecordedChange.objects.create(site=allocation.quotas.get().site, account=allocation.slurm_account,
                                  change={"changes": ["manual edit"], "state": snap})
    attempt = reconcile_site(site=allocation.quotas.get().site)
    assert attempt.outcome == "drift_fixed"
    assert any("gres/gpu=6000" in d for d in attempt.drift)
    assert state(allocation)["limits"]["gres/gpu"] == 6000
    assert reconcile_site(site=allocation.quotas.get().site).outcome == "noop"


def test_a_decision_during_a_push_is_not_lost():
    allocation, manager, _ = approved_allocation()  # on_commit not run: nothing pushed yet
    version = Allocation.objects.get(pk=allocation.pk).desired_version
    Allocation.objects.filter(pk=allocation.pk).update(desired_version=version + 1)  # a newer decision lands
    services.allocation_mark_synced(allocation_id=allocation.pk, version=version)
    allocation.refresh_from_db()
    assert allocation.sync_state != SyncState.IN_SYNC
