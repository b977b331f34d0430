"""A worker killed mid-provisioning leaves its attempt "running": the sweeper closes it as an error.

Found by bench/drills/faults.py worker-kill (docs/reliability.md): after SIGKILL the attempt row stayed
"running" on /staff/provisioning/ for ever, although the allocation had converged on a later attempt."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from allocations.catalogue.models import Site
from allocations.grants import services as grants
from allocations.grants.models import AllocationStatus, SyncState
from allocations.provisioning import services as provisioning
from allocations.provisioning.models import SyncAttempt, SyncOutcome
from allocations.provisioning.services import INTERRUPTED_ATTEMPT_SECONDS, sweep_unsynced
from tests.factories import approved_allocation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""


def test_the_sweeper_closes_attempts_left_running_by_a_dead_worker_and_only_those(monkeypatch):
    allocation, _m, _a = approved_allocation()
    site = Site.objects.get(code="zellik")
    dead = SyncAttempt.objects.create(site=site, allocation=allocation)
    alive = SyncAttempt.objects.create(site=site, allocation=allocation)
    reconcile = SyncAttempt.objects.create(site=site, kind="full_reconcile")
    old = timezone.now() - datetime.timedelta(seconds=INTERRUPTED_ATTEMPT_SECONDS + 60)
    SyncAttempt.objects.filter(pk__in=[dead.pk, reconcile.pk]).update(started_at=old)
    # A long full reconcile (hard limit 900 s) is not taken for dead.
    assert INTERRUPTED_ATTEMPT_SECONDS > 900
    monkeypatch.setattr("allocations.provisioning.tasks.provision_allocation.delay", lambda pk: None)

    sweep_unsynced()

    for attempt in (dead, reconcile):
        attempt.refresh_from_db()
        assert attempt.outcome == SyncOutcome.ERROR and attempt.finished_at is not None
        assert attempt.error.startswith("interrupted")
    alive.refresh_from_db()
    assert alive.outcome == SyncOutcome.RUNNING and alive.finished_at is None


def test_a_worker_killed_after_the_write_never_shows_or_mails_active(settings, django_capture_on_commit_callbacks,
                                                                     monkeypatch):
    """The worker dies after Slurm was written and before the read-back was recorded: the allocation stays
    provisioning (no "Active" page, no "Active" mail) until a run reads Slurm back."""
    class WorkerKilled(BaseException):
        """What SIGKILL looks like from inside: nothing after this line runs."""

    def killed(**kwargs):
        raise WorkerKilled

    allocation, _manager, _ = approved_allocation()
    monkeypatch.setattr(provisioning, "control_jobs", killed)  # runs right after the reconcile wrote Slurm
    mail.outbox.clear()
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        grants.allocation_start_if_due(allocation=allocation)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.PROVISIONING and allocation.sync_state == SyncState.NEEDS_SYNC
    assert not any("Active" in m.subject + m.body for m in mail.outbox)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert provisioning.sweep_unsynced(older_than_seconds=0) == 1
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE and allocation.sync_state == SyncState.IN_SYNC
    assert any("Active" in m.subject + m.body for m in mail.outbox)  # now, and only now
