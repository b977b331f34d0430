"""Grants and decisions on the real Slurm stack, through the portal's services: what happens to jobs.

A GPU-only grant runs a GPU job; a job larger than the grant is refused at submission with a message
the user reads; suspension holds a queued job (released on resumption, then it runs); revocation and
expiry cancel pending jobs and, per site policy, running ones; two reconciles interleaved around a
suspension never unblock the suspended account. Jobs are submitted by an ordinary Linux user of the
association (runuser), never by root. The seconds each step took are printed (run with -s to see them).
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from allocations.catalogue.models import AccessMode, RunningJobsPolicy, Site, SiteAccessMode
from allocations.grants import services as grants
from allocations.grants.models import Allocation, AllocationStatus, SyncState
from allocations.provisioning import services as provisioning
from allocations.provisioning.models import JobAction
from allocations.provisioning.services import bootstrap_site, reconcile_site, sync_allocation
from portal.audit import AuditAction
from portal.models import AuditEvent
from tests.factories import approved_allocation, ensure_reference_data
from tests.integration.conftest import sacctmgr, slurm_env, wait_for

pytestmark = pytest.mark.slurm

Z = "zellik"


def run(env, *argv, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, cwd="/tmp")


@pytest.fixture(scope="module")
def job_user():
    """An ordinary Linux user, created for this module and removed after it."""
    name = f"aifj{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", name], check=True, timeout=30)
    yield name
    subprocess.run(["userdel", name], capture_output=True, timeout=30)


@pytest.fixture
def stack(settings):
    """The stack's client environment (request a database fixture before this one); the portal provisions
    every site through sacctmgr; the access-mode QOS are bootstrapped (DenyOnLimit). Jobs, associations
    and accounts the test made are removed after it."""
    env = slurm_env()
    settings.AIF_SLURM_BACKEND = "sacctmgr"
    settings.AIF_SLURM_CONF = env["SLURM_CONF"]
    ensure_reference_data()
    result = bootstrap_site(site=Site.objects.get(code=Z))
    assert result.ok, result.errors
    made: list[str] = []
    parents: list[str] = []
    yield {"env": env, "accounts": made, "parents": parents}
    for account in made:
        run(env, "scancel", "-M", Z, "-A", account)
    run(env, "scancel", "-M", Z, "-n", "aif-blocker")
    for account in made:
        users = sacctmgr(env, "show", "assoc", "where", f"account={account}", "format=user").split()
        if users:
            run(env, "sacctmgr", "-i", "delete", "user", "where", "name=" + ",".join(sorted(set(users))),
                f"account={account}")
        run(env, "sacctmgr", "-i", "delete", "account", "where", f"name={account}")
    for parent in parents:  # refused while another account still has it as parent: that is fine
        run(env, "sacctmgr", "-i", "delete", "account", "where", f"name={parent}")


def granted(stack, user: str, *, gpu: int = 1, cpu: int = 10) -> tuple[Allocation, object]:
    """An approved, started and provisioned (active) allocation on zellik with ``user`` in its team."""
    allocation, manager, _applicant = approved_allocation(gpu=gpu, cpu=cpu, users=(user,), start=timezone.localdate())
    stack["accounts"].append(allocation.slurm_account)
    stack["parents"].append(f"org_{allocation.organisation_id}")
    grants.allocation_start_if_due(allocation=allocation)
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE
    controller_has_limits(stack["env"], allocation.slurm_account)
    return allocation, manager


def controller_has_limits(env, account) -> None:
    """slurmdbd hands a new association's limits to slurmctld a moment after sacctmgr returns; a job
    submitted before then is weighed against no limit (it happened on a loaded machine)."""
    def limited() -> bool:
        out = run(env, "scontrol", "-M", Z, "show", "assoc_mgr", f"accounts={account}", "flags=assoc").stdout
        for record in out.split("ClusterName=")[1:]:
            if " UserName= " in record.splitlines()[0]:  # the account's own association
                mins = next((ln for ln in record.splitlines() if ln.strip().startswith("GrpTRESMins=")), "")
                return "gres/gpu=" in mins and "gres/gpu=N(" not in mins
        return False
    wait_for(limited, timeout=30, what=f"slurmctld to hold the limits of {account}")


def fresh(allocation) -> Allocation:
    return Allocation.objects.get(pk=allocation.pk)


def sbatch(env, user, account, *args) -> subprocess.CompletedProcess:
    return run(env, "runuser", "-u", user, "--", "sbatch", "-M", Z, "--parsable", f"--account={account}",
               "-o", "/dev/null", *args)


def submitted(env, user, account, *args) -> str:
    out = sbatch(env, user, account, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().split(";")[0]


def queue_state(env, job_id) -> str:
    """``STATE REASON`` while squeue knows the job; then the final state from sacct."""
    out = run(env, "squeue", "-M", Z, "-h", "-j", job_id, "-o", "%T %r").stdout
    line = next((ln for ln in out.splitlines() if ln.strip() and not ln.startswith("CLUSTER")), "")
    return line.strip() or final_state(env, job_id)


def final_state(env, job_id) -> str:
    out = run(env, "sacct", "-M", Z, "-n", "-X", "-P", "-j", job_id, "-o", "state").stdout.strip()
    return out.splitlines()[0].split()[0] if out else ""


def fill_the_node(env) -> str:
    """A root job on both CPUs of zellik's node, so that the next job queues (PENDING Resources)."""
    out = run(env, "sbatch", "-M", Z, "--parsable", "-A", "root", "-J", "aif-blocker", "-c", "2", "-t", "5",
              "-o", "/dev/null", "--wrap", "sleep 300")
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip().split(";")[0]
    wait_for(lambda: queue_state(env, job_id).startswith("RUNNING"), timeout=60, what="the blocker to run")
    return job_id


def account_limits(env, account) -> str:
    return sacctmgr(env, "show", "assoc", "where", f"account={account}", f"cluster={Z}", "user=",
                    "format=grptresmins,grpsubmit,grpjobs,qos").strip()


# ------------------------------------------------------------------------------------------- grants


@pytest.mark.parametrize(("ratio", "limits"), [(None, "gres/gpu=60"), (1, "cpu=60,gres/gpu=60")])
def test_a_gpu_only_grant_runs_a_gpu_job(db, stack, job_user, ratio, limits):
    """0 CPU core-hours used to become GrpTRESMins=cpu=0: every job pended (AssocGrpCPUMinutesLimit)."""
    env = stack["env"]
    Site.objects.filter(code=Z).update(cpus_per_gpu=ratio)
    allocation, _manager = granted(stack, job_user, gpu=1, cpu=0)
    assert account_limits(env, allocation.slurm_account) == f"{limits}|||aif_fast_lane"
    started = time.monotonic()
    job = submitted(env, job_user, allocation.slurm_account, "--gres=gpu:1", "-t", "2", "--wrap", "hostname")
    wait_for(lambda: final_state(env, job) == "COMPLETED", timeout=90, what=f"GPU job {job} to complete")
    print(f"\nGPU-only grant (CPUs per GPU: {ratio}): GPU job COMPLETED in {time.monotonic() - started:.1f} s")


def test_a_job_larger_than_the_grant_is_refused_at_submission(db, stack, job_user):
    env = stack["env"]
    allocation, _manager = granted(stack, job_user, gpu=1, cpu=0)  # 60 GPU-minutes
    assert "DenyOnLimit" in sacctmgr(env, "show", "qos", "where", "name=aif_fast_lane", "format=flags")
    refused = sbatch(env, job_user, allocation.slurm_account, "--gres=gpu:1", "-t", "61", "--wrap", "hostname")
    assert refused.returncode != 0
    assert "AssocGrpGRESMinutes" in refused.stderr
    assert "Job violates accounting/QOS policy" in refused.stderr
    assert run(env, "squeue", "-M", Z, "-h", "-A", allocation.slurm_account).stdout.strip() == ""

    # Slurm 22.05 weighs a job against the whole grant at submission, not against what is left: a job that
    # fits the grant but not the remainder is accepted and waits, and `safe` keeps it from starting (and
    # being killed when the quota runs out). 2 GPUs for 31 s use 1 GPU-minute; 60 more do not fit.
    used = submitted(env, job_user, allocation.slurm_account, "--gres=gpu:2", "-t", "1", "--wrap", "sleep 31")
    wait_for(lambda: final_state(env, used) == "COMPLETED", timeout=120, what="the 1 GPU-minute job")
    waits = submitted(env, job_user, allocation.slurm_account, "--gres=gpu:1", "-t", "60", "--wrap", "hostname")
    wait_for(lambda: queue_state(env, waits) == "PENDING AssocGrpGRESMinutes", timeout=30,
             what="the job to wait for GPU-minutes")


# ------------------------------------------------------------------------------------------- partitions


def user_associations(env, account) -> list[str]:
    rows = sacctmgr(env, "show", "assoc", "where", f"account={account}", f"cluster={Z}", "format=user,partition")
    return sorted(line for line in rows.splitlines() if line.split("|")[0])


def test_an_access_mode_limited_to_a_partition_runs_there_only(db, stack, job_user):
    """The site data names the partitions an access mode runs in: each member's association names them, a job
    in another partition is refused at submission with Slurm's message, one in the partition completes; naming
    none again brings back the association that names none (added before the partition's is removed, so the
    account stays the member's default)."""
    env = stack["env"]
    site = Site.objects.get(code=Z)
    mode = AccessMode.objects.get(code="fast_lane")
    SiteAccessMode.objects.update_or_create(site=site, access_mode=mode, defaults={"partitions": "gpu"})
    allocation, _manager = granted(stack, job_user)
    account = allocation.slurm_account
    assert user_associations(env, account) == [f"{job_user}|gpu"]
    refused = sbatch(env, job_user, account, "-p", "debug", "-t", "1", "--wrap", "hostname")
    assert refused.returncode != 0
    assert "Invalid account or account/partition combination specified" in refused.stderr
    job = submitted(env, job_user, account, "-p", "gpu", "-t", "1", "--wrap", "hostname")
    wait_for(lambda: final_state(env, job) == "COMPLETED", timeout=90, what=f"job {job} in gpu to complete")
    # The operator's reconcile finds nothing left to change.
    assert reconcile_site(site=site, dry_run=True).drift == []

    SiteAccessMode.objects.filter(site=site, access_mode=mode).update(partitions="")
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    assert user_associations(env, account) == [f"{job_user}|"]
    job = submitted(env, job_user, account, "-p", "debug", "-t", "1", "--wrap", "hostname")
    wait_for(lambda: final_state(env, job) == "COMPLETED", timeout=90, what=f"job {job} in debug to complete")


# ------------------------------------------------------------------------------------------- suspension


def test_suspension_holds_a_queued_job_and_resumption_releases_it(db, stack, job_user):
    env = stack["env"]
    allocation, manager = granted(stack, job_user)
    blocker = fill_the_node(env)
    queued = submitted(env, job_user, allocation.slurm_account, "-c", "1", "-t", "1", "--wrap", "hostname")
    wait_for(lambda: queue_state(env, queued) == "PENDING Resources", timeout=30, what="the job to queue")

    started = time.monotonic()
    grants.allocation_suspend(actor=manager, allocation=fresh(allocation), reason="security incident")
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    assert queue_state(env, queued) == "PENDING JobHeldAdmin"
    held_in = time.monotonic() - started
    assert account_limits(env, allocation.slurm_account).endswith("|0|0|aif_fast_lane")
    (hold,) = JobAction.objects.filter(allocation=allocation)
    assert (hold.action, hold.job_ids, hold.allocation_status) == ("hold", [queued], "suspended")
    event = AuditEvent.objects.get(action=AuditAction.PROVISIONING_JOBS_HELD, object_id=str(allocation.pk))
    assert event.changes["job_ids"] == [queued] and event.changes["site"] == Z
    refused = sbatch(env, job_user, allocation.slurm_account, "--wrap", "hostname")
    assert refused.returncode != 0 and "AssocGrpSubmitJobsLimit" in refused.stderr
    # the node frees up: the held job still does not start (it used to, 70 s after the suspension)
    run(env, "scancel", "-M", Z, blocker)
    wait_for(lambda: final_state(env, blocker) == "CANCELLED", timeout=30, what="the blocker to go")
    time.sleep(8)  # several scheduling passes (bf_interval=5)
    assert queue_state(env, queued) == "PENDING JobHeldAdmin"
    # the owner cannot release an administrator's hold
    assert run(env, "runuser", "-u", job_user, "--", "scontrol", "-M", Z, "release", queued).returncode != 0

    started = time.monotonic()
    grants.allocation_resume(actor=manager, allocation=fresh(allocation), reason="resolved")
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    release = JobAction.objects.filter(allocation=allocation).order_by("pk").last()
    assert (release.action, release.job_ids, release.allocation_status) == ("release", [queued], "active")
    wait_for(lambda: final_state(env, queued) == "COMPLETED", timeout=60, what=f"released job {queued} to run")
    print(f"\nsuspension: queued job held {held_in:.1f} s after the decision; "
          f"released and COMPLETED {time.monotonic() - started:.1f} s after resumption")


# ------------------------------------------------------------------------------------------- the end


@pytest.mark.parametrize(("decision", "policy"), [("expire", RunningJobsPolicy.FINISH),
                                                  ("revoke", RunningJobsPolicy.CANCEL)])
def test_the_end_cancels_pending_jobs_and_running_ones_per_site_policy(db, stack, job_user, decision, policy):
    env = stack["env"]
    Site.objects.filter(code=Z).update(running_jobs_at_end=policy)
    allocation, manager = granted(stack, job_user)
    running = submitted(env, job_user, allocation.slurm_account, "-c", "2", "-t", "1", "--wrap", "sleep 20")
    wait_for(lambda: queue_state(env, running).startswith("RUNNING"), timeout=30, what="the first job to run")
    pending = submitted(env, job_user, allocation.slurm_account, "-c", "1", "-t", "1", "--wrap", "hostname")
    wait_for(lambda: queue_state(env, pending) == "PENDING Resources", timeout=30, what="the second job to queue")

    started = time.monotonic()
    if decision == "expire":
        last_day = timezone.localdate() + timezone.timedelta(days=1)
        Allocation.objects.filter(pk=allocation.pk).update(end_date=last_day)
        grants.allocation_expire_if_due(allocation=fresh(allocation), today=last_day)
    else:
        grants.allocation_revoke(actor=manager, allocation=fresh(allocation), reason="breach of the terms")
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    wait_for(lambda: final_state(env, pending) == "CANCELLED", timeout=30, what=f"pending job {pending} cancelled")
    cancelled_in = time.monotonic() - started
    (action,) = JobAction.objects.filter(allocation=allocation)
    if policy == RunningJobsPolicy.FINISH:
        assert (action.job_ids, action.running_job_ids) == ([pending], [])
        assert queue_state(env, running).startswith("RUNNING")
        wait_for(lambda: final_state(env, running) == "COMPLETED", timeout=60, what="the running job to finish")
    else:
        assert (sorted(action.job_ids), action.running_job_ids) == (sorted([running, pending]), [running])
        wait_for(lambda: final_state(env, running) == "CANCELLED", timeout=30, what="the running job cancelled")
    assert action.allocation_status == fresh(allocation).status
    event = AuditEvent.objects.get(action=AuditAction.PROVISIONING_JOBS_CANCELLED, object_id=str(allocation.pk))
    assert sorted(event.changes["job_ids"]) == sorted(action.job_ids)
    refused = sbatch(env, job_user, allocation.slurm_account, "--wrap", "hostname")
    assert refused.returncode != 0 and "AssocGrpSubmitJobsLimit" in refused.stderr
    print(f"\n{decision} ({policy}): pending job cancelled {cancelled_in:.1f} s after the decision")


# ------------------------------------------------------------------------------------------- races


def test_two_interleaved_reconciles_never_unblock_a_suspended_account(postgres_transactional, stack, job_user,
                                                                      queued, monkeypatch):
    """A full reconcile reads the desired state (active), then a suspension is decided and pushed, then the
    reconcile goes on. It used to plan from what it had read and unblock the suspended account; now the
    push waits for the reconcile's cluster lock and reads the desired state after it."""
    env = stack["env"]
    allocation, manager = granted(stack, job_user)
    site = Site.objects.get(code=Z)
    has_read, go, pushed = threading.Event(), threading.Event(), threading.Event()
    real_site_desired = provisioning.site_desired

    def site_desired_then_pause(s):
        desired = real_site_desired(s)
        if threading.current_thread().name == "reconcile":
            has_read.set()
            go.wait(60)
        return desired

    monkeypatch.setattr(provisioning, "site_desired", site_desired_then_pause)
    outcomes: dict[str, object] = {}

    def in_thread(name, call):
        def body():
            try:
                outcomes[name] = call()
            except Exception as exc:  # noqa: BLE001 - reported by the assertions below
                outcomes[name] = exc
            finally:
                if name == "push":
                    pushed.set()
                connection.close()

        return threading.Thread(target=body, name=name, daemon=True)

    reconcile = in_thread("reconcile", lambda: reconcile_site(site=site).outcome)
    push = in_thread("push", lambda: sync_allocation(allocation_id=allocation.pk))
    reconcile.start()
    try:
        assert has_read.wait(30), "the reconcile never read the desired state"
        before = len(queued)
        grants.allocation_suspend(actor=manager, allocation=fresh(allocation), reason="security incident")
        assert queued[before:] == [allocation.pk]  # committed; the push is run by hand, in its own thread
        push.start()
        assert not pushed.wait(3), "the push ran while the reconcile held the cluster"
    finally:
        go.set()
        reconcile.join(120)
        if push.is_alive() or pushed.is_set():
            push.join(120)
    assert outcomes == {"reconcile": "noop", "push": "synced"}, outcomes
    assert account_limits(env, allocation.slurm_account).endswith("|0|0|aif_fast_lane")
    assert fresh(allocation).status == AllocationStatus.SUSPENDED and fresh(allocation).sync_state == SyncState.IN_SYNC
    assert reconcile_site(site=site, dry_run=True).drift == []
