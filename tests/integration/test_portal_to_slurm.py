"""End to end on real services: PostgreSQL, Redis, a real Celery worker process and the local Slurm stack.

Approve in the portal -> the worker provisions -> sacctmgr shows the account, limits and users; an
ordinary Linux user's job runs; suspension and expiry refuse jobs; a top-up raises the limit."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from django.utils import timezone

from allocations.catalogue.models import Site
from allocations.grants import services as grants_services
from allocations.grants.models import Allocation, AllocationStatus, ChangeKind, SyncState
from allocations.provisioning.services import bootstrap_site
from tests.factories import approved_allocation
from tests.integration.conftest import linux_user, sacctmgr, wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.celery_worker]

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

        grants_services.allocation_start_if_due(allocation=refresh(allocation))
        wait_for(lambda: refresh(allocation).status == AllocationStatus.ACTIVE, what="activation after provisioning")
        submitted = sbatch(env, user, account)
        assert submitted.returncode == 0, submitted.stderr
        job_id = submitted.stdout.strip().split(";")[0]
        wait_for(lambda: job_state(env, job_id) == "COMPLETED", timeout=60, what=f"job {job_id} to complete")

        grants_services.allocation_suspend(actor=manager, allocation=refresh(allocation), reason="security incident")
        wait_for(lambda: refresh(allocation).sync_state == SyncState.IN_SYNC, what="suspension pushed")
        refused = sbatch(env, user, account)
        assert refused.returncode != 0 and "AssocGrpSubmitJobsLimit" in refused.stderr, refused.stderr

        grants_services.allocation_resume(actor=manager, allocation=refresh(allocation), reason="resolved")
        change = grants_services.change_request_submit(
            actor=applicant, allocation=refresh(allocation), kind=ChangeKind.TOP_UP,
            payload={"quotas": {str(allocation.quotas.get().site_id): {"gpu_hours": 5, "cpu_core_hours": 0}}},
            justification="more epochs")
        grants_services.change_request_decide(actor=manager, change_request=change, approve=True)
        wait_for(lambda: refresh(allocation).sync_state == SyncState.IN_SYNC, what="top-up pushed")
        limits = sacctmgr(env, "show", "assoc", "where", f"account={account}", "cluster=zellik", "user=",
                          "format=grptresmins")
        assert "gres/gpu=900" in limits, limits

        last_day = timezone.localdate() + timezone.timedelta(days=1)
        Allocation.objects.filter(pk=allocation.pk).update(end_date=last_day)
        grants_services.allocation_expire_if_due(allocation=refresh(allocation), today=last_day)
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
