"""One provisioning run per cluster: the lock itself, and a run that cannot get it.

On SQLite the lock is the process's own; on PostgreSQL (CI) an advisory lock, so the thread below
holds it through its own database session. Two reconciles interleaved on the real stack around a
suspension: tests/integration/test_slurm_jobs.py."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from allocations.grants.models import Allocation, SyncState
from allocations.provisioning.locks import ClusterBusyError, cluster_lock, lock_key
from allocations.provisioning.models import SyncAttempt
from allocations.provisioning.services import sync_allocation
from allocations.provisioning.slurm.errors import SlurmError
from tests.factories import approved_allocation

pytestmark = pytest.mark.django_db


class Holder(threading.Thread):
    """Holds a cluster's lock from another thread (another database session) until told to stop."""

    def __init__(self, cluster: str) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.holding = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with cluster_lock(self.cluster, wait=5):
                self.holding.set()
                self.stop.wait(30)
        finally:
            connection.close()

    def __enter__(self):
        self.start()
        assert self.holding.wait(10), "the holder never got the lock"
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join(10)


def test_keys_are_stable_and_differ_per_cluster():
    assert lock_key("zellik") == lock_key("zellik") != lock_key("charleroi")
    assert -(2**63) <= lock_key("zellik") < 2**63


def test_a_held_cluster_makes_others_wait_and_leaves_other_clusters_free():
    with Holder("zellik"):
        with pytest.raises(ClusterBusyError, match="zellik: another provisioning run holds the cluster"):
            with cluster_lock("zellik", wait=0.5):
                pass
        with cluster_lock("charleroi", wait=0.5):
            pass
    with cluster_lock("zellik", wait=0.5):  # released by the holder
        pass


def test_a_run_that_cannot_get_the_cluster_changes_nothing_and_says_why(settings):
    settings.AIF_SLURM_BACKEND = ""  # record backend
    settings.AIF_SLURM_LOCK_WAIT_SECONDS = 0.3
    allocation, _manager, _ = approved_allocation()
    with Holder("zellik"):
        with pytest.raises(SlurmError, match="another provisioning run holds the cluster"):
            sync_allocation(allocation_id=allocation.pk)
    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.ERROR and allocation.synced_version == 0
    (attempt,) = SyncAttempt.objects.filter(allocation=allocation)
    assert attempt.outcome == "error" and "holds the cluster" in attempt.error and attempt.commands == []
    assert sync_allocation(allocation_id=allocation.pk) == "synced"  # once free, the retry goes through
    assert Allocation.objects.get(pk=allocation.pk).sync_state == SyncState.IN_SYNC
