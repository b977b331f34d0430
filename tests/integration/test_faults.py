"""Faults on the real stack: nothing lost, nothing duplicated.

slurmdbd down while 20 allocations are approved, and a worker killed with SIGKILL while it
provisions: in both cases every allocation converges once the fault is gone."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from allocations.catalogue.models import Site
from allocations.grants.models import Allocation, SyncState
from allocations.provisioning.models import SyncAttempt
from allocations.provisioning.services import bootstrap_site, sweep_unsynced
from tests.factories import approved_allocation
from tests.integration.conftest import ROOT, SLURM_DIR, sacctmgr, wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.celery_worker]


def stop_slurmdbd() -> None:
    pid = int(Path(SLURM_DIR / "run" / "slurmdbd.pid").read_text().strip())
    subprocess.run(["kill", str(pid)], check=True, timeout=10)
    wait_for(lambda: subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0, timeout=30,
             what="slurmdbd to stop")


def start_stack() -> None:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "slurm-stack.sh"), "start"], capture_output=True,
                         text=True, timeout=300)
    assert "SLURM READY" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


def cleanup(env, accounts) -> None:
    for cluster in ("zellik", "charleroi"):
        if accounts:
            subprocess.run(["sacctmgr", "-i", "delete", "account", ",".join(accounts), f"cluster={cluster}"],
                           env=env, capture_output=True, timeout=120)


def account_rows(env, account: str) -> list[str]:
    return [r for r in sacctmgr(env, "show", "assoc", "where", f"account={account}", "cluster=zellik",
                                "format=account,user").splitlines() if r.strip()]


def test_slurmdbd_down_during_20_approvals_then_everything_converges_once(worker):
    env = worker["env"]
    for site in Site.objects.all():
        assert bootstrap_site(site=site).ok
    stop_slurmdbd()
    allocations = []
    try:
        for i in range(20):
            allocation, _m, _a = approved_allocation(gpu=10 + i, cpu=100, users=())
            allocations.append(allocation)
        ids = [a.pk for a in allocations]
        # The worker tries, fails and records it; nothing is marked in sync while the database is down.
        wait_for(lambda: SyncAttempt.objects.filter(allocation_id__in=ids, outcome="error").count() >= 5,
                 timeout=120, what="failed attempts while slurmdbd is down")
        assert not Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).exists()
        start_stack()
        sweep_unsynced(older_than_seconds=0)
        wait_for(lambda: Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).count() == 20,
                 timeout=240, what="all 20 allocations to converge")
        for allocation in allocations:
            rows = account_rows(env, allocation.slurm_account)
            assert rows == [f"{allocation.slurm_account}|"], f"exactly one association, no duplicate: {rows}"
        print(f"\nslurmdbd drill: 20 approvals while down, "
              f"{SyncAttempt.objects.filter(allocation_id__in=ids, outcome='error').count()} failed attempts, "
              f"20/20 converged, 0 duplicates")
    finally:
        start_stack()
        cleanup(env, [a.slurm_account for a in allocations])


def test_worker_killed_mid_provisioning_converges_after_restart(worker):
    env = worker["env"]
    proc = worker["proc"]
    for site in Site.objects.all():
        assert bootstrap_site(site=site).ok
    allocations = []
    try:
        for i in range(5):
            allocation, _m, _a = approved_allocation(gpu=20 + i, cpu=100, users=())
            allocations.append(allocation)
        wait_for(lambda: "provision_allocation" in proc.log() and "received" in proc.log(), timeout=60,
                 what="the worker to pick up provisioning")
        proc.stop(signal.SIGKILL)
        proc.start()
        sweep_unsynced(older_than_seconds=0)
        ids = [a.pk for a in allocations]
        wait_for(lambda: Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).count() == 5,
                 timeout=180, what="all 5 allocations to converge after the kill")
        for allocation in allocations:
            assert account_rows(env, allocation.slurm_account) == [f"{allocation.slurm_account}|"]
    finally:
        cleanup(env, [a.slurm_account for a in allocations])
