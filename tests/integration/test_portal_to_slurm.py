"""End to end on real services: PostgreSQL, Redis, a real Celery worker process and the local Slurm stack.

Approve in the portal -> the worker provisions -> sacctmgr shows the account, limits and users; an
ordinary Linux user's job runs; suspension and expiry refuse jobs; a top-up raises the limit."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from allocations.models import Allocation, AllocationStatus, ChangeKind, Site, SyncState
from allocations.services import lifecycle
from allocations.services.provisioning import bootstrap_site
from tests.conftest import require_service
from tests.provisioning.builders import approved_allocation

pytestmark = [pytest.mark.slurm, pytest.mark.celery_worker]

SLURM_DIR = Path(os.environ.get("AIF_SLURM_DIR", "/tmp/aif-slurm"))
ROOT = Path(__file__).resolve().parents[2]


def slurm_env() -> dict[str, str]:
    conf = os.environ.get("SLURM_CONF") or str(SLURM_DIR / "etc" / "slurm.conf")
    if not Path(conf).exists() or shutil.which("sacctmgr") is None:
        require_service("slurm", f"no Slurm stack ({conf}); start it with: bash scripts/slurm-stack.sh start")
    env = dict(os.environ, SLURM_CONF=conf)
    probe = subprocess.run(["sacctmgr", "-n", "-P", "show", "cluster", "format=cluster"], env=env,
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0 or "zellik" not in probe.stdout:
        require_service("slurm", f"sacctmgr does not answer: {probe.stderr.strip()}")
    return env


def sacctmgr(env, *args) -> str:
    out = subprocess.run(["sacctmgr", "-n", "-P", *args], env=env, capture_output=True, text=True, timeout=60)
    return out.stdout


def wait_for(predicate, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def worker(postgres_transactional, redis_server, settings):
    """A real Celery worker process on Redis, against this test's PostgreSQL database."""
    env = slurm_env()
    from portal.celery import app

    db = connection.settings_dict
    db_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    broker = redis_server.rsplit("/", 1)[0] + "/7"
    subprocess.run(["redis-cli", "-u", broker, "flushdb"], capture_output=True, timeout=10)
    worker_env = dict(env, DJANGO_SETTINGS_MODULE="portal.settings_test", DATABASE_URL=db_url,
                      CELERY_BROKER_URL=broker, CELERY_TASK_ALWAYS_EAGER="0", AIF_SLURM_BACKEND="sacctmgr",
                      AIF_SLURM_CONF=env["SLURM_CONF"], PYTHONUNBUFFERED="1")
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / f"worker-{uuid.uuid4().hex[:6]}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo",
                             "-Q", "default,slurm,reports", "--loglevel", "INFO"],
                            cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT)
    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = broker
    app.conf.task_always_eager = False
    settings.AIF_SLURM_BACKEND = "sacctmgr"
    settings.AIF_SLURM_CONF = env["SLURM_CONF"]
    reset_pools(app)
    try:
        yield {"env": env, "proc": proc}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        app.conf.broker_url, app.conf.task_always_eager = old
        app.pool.force_close_all()
    app._pool = None


def reset_pools(app) -> None:
    """Drop cached broker connections so the next publish uses the current broker_url."""
    app._pool = None
    app.amqp._producer_pool = None


def linux_user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], check=True, timeout=30)
    return name


def sbatch(env, user: str, account: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", "sbatch", "-M", "zellik", f"--account={account}",
                           "--parsable", "--wrap=hostname"], env=env, capture_output=True, text=True, timeout=60,
                          cwd="/tmp")


def job_state(env, job_id: str) -> str:
    out = subprocess.run(["sacct", "-M", "zellik", "-j", job_id, "-n", "-P", "-X", "-o", "state"], env=env,
                         capture_output=True, text=True, timeout=30).stdout
    return out.strip().splitlines()[0] if out.strip() else ""


def refresh(allocation) -> Allocation:
    return Allocation.objects.get(pk=allocation.pk)


def test_approval_provisions_through_the_worker_and_slurm_enforces_it(worker):
    env = worker["env"]
    for site in Site.objects.all():
        assert bootstrap_site(site=site).ok
    user = linux_user(f"aif{uuid.uuid4().hex[:6]}")
    allocation, manager, applicant = approved_allocation(gpu=10, cpu=100, users=(user,), start=timezone.localdate())
    account = allocation.slurm_account
    try:
        wait_for(lambda: refresh(allocation).sync_state == SyncState.IN_SYNC, what="provisioning by the worker")
        rows = sacctmgr(env, "show", "assoc", "where", f"account={account}", "cluster=zellik",
                        "format=account,user,grptresmins,grpsubmitjobs").splitlines()
        assert any(f"|{user}|" in r for r in rows), rows
        account_row = next(r for r in rows if r.split("|")[1] == "")
        assert "cpu=6000" in account_row and "gres/gpu=600" in account_row
        assert account_row.endswith("|0"), "approved but not started: jobs refused"

        lifecycle.allocation_start_if_due(allocation=refresh(allocation))
        wait_for(lambda: refresh(allocation).status == AllocationStatus.ACTIVE, what="activation after provisioning")
        submitted = sbatch(env, user, account)
        assert submitted.returncode == 0, submitted.stderr
        job_id = submitted.stdout.strip().split(";")[0]
        wait_for(lambda: job_state(env, job_id) == "COMPLETED", timeout=60, what=f"job {job_id} to complete")

        lifecycle.allocation_suspend(actor=manager, allocation=refresh(allocation), reason="security incident")
        wait_for(lambda: refresh(allocation).sync_state == SyncState.IN_SYNC, what="suspension pushed")
        refused = sbatch(env, user, account)
        assert refused.returncode != 0 and "AssocGrpSubmitJobsLimit" in refused.stderr, refused.stderr

        lifecycle.allocation_resume(actor=manager, allocation=refresh(allocation), reason="resolved")
        change = lifecycle.change_request_submit(
            actor=applicant, allocation=refresh(allocation), kind=ChangeKind.TOP_UP,
            payload={"quotas": {str(allocation.quotas.get().site_id): {"gpu_hours": 5, "cpu_core_hours": 0}}},
            justification="more epochs")
        lifecycle.change_request_decide(actor=manager, change_request=change, approve=True)
        wait_for(lambda: refresh(allocation).sync_state == SyncState.IN_SYNC, what="top-up pushed")
        limits = sacctmgr(env, "show", "assoc", "where", f"account={account}", "cluster=zellik", "user=",
                          "format=grptresmins")
        assert "gres/gpu=900" in limits, limits

        last_day = timezone.localdate() + timezone.timedelta(days=1)
        Allocation.objects.filter(pk=allocation.pk).update(end_date=last_day)
        lifecycle.allocation_expire_if_due(allocation=refresh(allocation), today=last_day)
        wait_for(lambda: refresh(allocation).sync_state == SyncState.IN_SYNC, what="expiry pushed")
        assert refresh(allocation).status == AllocationStatus.EXPIRED
        refused = sbatch(env, user, account)
        assert refused.returncode != 0 and "AssocGrpSubmitJobsLimit" in refused.stderr, refused.stderr
    finally:
        for cluster in ("zellik", "charleroi"):
            subprocess.run(["sacctmgr", "-i", "delete", "user", user, f"cluster={cluster}"], env=env,
                           capture_output=True, timeout=60)
            subprocess.run(["sacctmgr", "-i", "delete", "account", account, f"cluster={cluster}"], env=env,
                           capture_output=True, timeout=60)
