"""The embedded default: the same reconcile path against the backend that records intended changes."""

import pytest

from allocations.catalogue.models import RunningJobsPolicy, Site
from allocations.grants import services
from allocations.grants.models import Allocation, AllocationQuota, AllocationStatus, SyncState
from allocations.provisioning.models import JobAction, RecordedChange, SyncAttempt
from allocations.provisioning.services import quota_minutes, reconcile_site, sync_allocation
from portal.audit import AuditAction
from portal.models import AuditEvent
from tests.factories import approved_allocation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""  # every site keeps its default backend: record


def state(allocation):
    """The newest recorded state of the account (job-control rows carry an intention, no state)."""
    row = (RecordedChange.objects.filter(account=allocation.slurm_account, change__has_key="state")
           .order_by("-recorded_at", "-pk").first())
    return row.change["state"]


def test_approval_queues_provisioning_on_commit_and_the_account_starts_blocked(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        allocation, _manager, _ = approved_allocation(gpu=100, cpu=1000, users=("alice", "bob"))
    assert len(callbacks) >= 1
    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.IN_SYNC
    snap = state(allocation)
    assert snap["limits"] == {"cpu": 60_000, "gres/gpu": 6_000}
    assert snap["grp_submit_jobs"] == 0 and snap["grp_jobs"] == 0, "not started: jobs refused, none starts"
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
    assert state(allocation)["grp_submit_jobs"] == 0 and state(allocation)["grp_jobs"] == 0
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


def actions(allocation):
    return [(a.action, a.intended, a.allocation_status) for a in JobAction.objects.filter(allocation=allocation)
            .order_by("pk")]


def test_suspension_resumption_and_expiry_record_what_would_be_done_to_the_jobs(django_capture_on_commit_callbacks):
    """Without Slurm there are no jobs to list: the backend records the intention, and so does the portal
    (a JobAction and an audit event each), in the order the decisions were taken."""
    with django_capture_on_commit_callbacks(execute=True):
        allocation, manager, _ = approved_allocation()
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_start_if_due(allocation=allocation)
    assert actions(allocation) == [], "nothing was ever held: nothing to release"
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_suspend(actor=manager, allocation=Allocation.objects.get(pk=allocation.pk),
                                    reason="abuse report")
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_resume(actor=manager, allocation=Allocation.objects.get(pk=allocation.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_suspend(actor=manager, allocation=Allocation.objects.get(pk=allocation.pk),
                                    reason="again")
    last_day = Allocation.objects.get(pk=allocation.pk).end_date
    with django_capture_on_commit_callbacks(execute=True):
        services.allocation_expire_if_due(allocation=Allocation.objects.get(pk=allocation.pk), today=last_day)
    assert actions(allocation) == [
        ("hold", True, "suspended"), ("release", True, "active"), ("hold", True, "suspended"),
        ("cancel", True, "expired"),
    ]
    recorded = [r.change["changes"][0] for r in RecordedChange.objects.filter(
        account=allocation.slurm_account, change__has_key="jobs").order_by("pk")]
    assert recorded == [f"zellik: {verb} {allocation.slurm_account}" for verb in (
        "hold the pending jobs of", "release the held jobs of", "hold the pending jobs of",
        "cancel the pending jobs of")]  # the site lets running jobs finish (its default)
    events = AuditEvent.objects.filter(object_id=str(allocation.pk), action__startswith="provisioning.jobs_")
    assert [e.action for e in events.order_by("pk")] == [
        AuditAction.PROVISIONING_JOBS_HELD, AuditAction.PROVISIONING_JOBS_RELEASED,
        AuditAction.PROVISIONING_JOBS_HELD, AuditAction.PROVISIONING_JOBS_CANCELLED]
    assert events.order_by("pk").last().changes == {"site": "zellik", "job_ids": [], "running_job_ids": [],
                                                    "intended": True, "status": "expired"}
    assert state(allocation)["grp_jobs"] == 0 and Allocation.objects.get(pk=allocation.pk).is_in_sync


def test_a_site_that_cancels_running_jobs_says_so():
    allocation, manager, _ = approved_allocation()
    Site.objects.filter(code="zellik").update(running_jobs_at_end=RunningJobsPolicy.CANCEL)
    services.allocation_revoke(actor=manager, allocation=allocation, reason="fraud")
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    (row,) = RecordedChange.objects.filter(account=allocation.slurm_account, change__has_key="jobs")
    assert row.change == {"jobs": "cancel", "changes": [
        f"zellik: cancel the pending and running jobs of {allocation.slurm_account}"]}


@pytest.mark.parametrize(
    ("gpu_hours", "cpu_hours", "ratio", "expected"),
    [
        (10, 0, None, {"gres/gpu": 600}),  # GPU-only, no ratio: no CPU limit (never cpu=0)
        (10, 0, 8, {"gres/gpu": 600, "cpu": 4800}),  # GPU-only: the cores that come with the GPUs
        (10, 5, 8, {"gres/gpu": 600, "cpu": 300}),  # the grant's own CPU figure wins
        (0, 5, 8, {"gres/gpu": 0, "cpu": 300}),  # CPU-only: GPU jobs refused, CPU jobs run
    ],
)
def test_grpstresmins_of_a_grant(gpu_hours, cpu_hours, ratio, expected):
    Site.objects.filter(code="zellik").update(cpus_per_gpu=ratio)
    allocation, _manager, _ = approved_allocation(gpu=gpu_hours, cpu=cpu_hours)
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    assert state(allocation)["limits"] == expected


def test_a_site_granted_nothing_runs_nothing():
    """One site of a two-site grant may get nothing: its account must not be left without a CPU limit."""
    quota = AllocationQuota(site=Site.objects.get(code="zellik"), gpu_hours=0, cpu_core_hours=0)
    assert quota_minutes(quota) == (0, 0)
