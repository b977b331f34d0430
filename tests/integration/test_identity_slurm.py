"""A person added to a running project's association submits a job at once, without `scontrol reconfigure`
(docs/identity.md, "What the site configures"), on the real Slurm stack.

slurmctld resolves a user's uid when the association reaches it; an association written before the login
exists stays without uid (jobs: "Invalid account") until a reconfigure or its hourly retry. The portal
therefore makes the POSIX account exist first: on a confirmed-username site the username must exist before
the person confirms it, on a directory site the account is bound or created before the association is
written. Here the Linux account (what the site's NSS serves) appears after the project's association was
created, then the person is confirmed and provisioned, then submits. The other test shows the trap the
ordering avoids."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from django.utils import timezone

from allocations.applications.models import TeamMember
from allocations.applications.services import team_member_confirm
from allocations.provisioning.services import sync_allocation
from tests.integration.conftest import sacctmgr, wait_for
from tests.integration.test_slurm_jobs import Z, final_state, granted, sbatch, stack  # noqa: F401 (fixture)

pytestmark = pytest.mark.slurm


@pytest.fixture
def new_login():
    """A login that does not exist yet; removed after the test if it was created."""
    name = f"aifn{uuid.uuid4().hex[:6]}"
    yield name
    subprocess.run(["userdel", name], capture_output=True, timeout=30)


def useradd(name: str) -> None:
    subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", name], check=True, timeout=30)


def test_a_member_added_to_a_running_project_submits_at_once(db, stack, new_login, settings):  # noqa: F811
    env = stack["env"]
    first = f"aiff{uuid.uuid4().hex[:6]}"
    useradd(first)
    try:
        allocation, _manager = granted(stack, first)
        # The site creates the newcomer's account (here: useradd; on a site, the directory and NSS), then
        # the newcomer is invited and confirms the username, which must exist: the portal asks getent.
        useradd(new_login)
        settings.AIF_USERNAME_CHECK = "getent"
        member = TeamMember.objects.create(application=allocation.application, full_name="New Comer",
                                           email=f"{new_login}@example.org", cluster_username=new_login,
                                           token_hash=TeamMember.hash_token("tok-" + new_login),
                                           invited_at=timezone.now())
        team_member_confirm(token="tok-" + new_login)
        started = time.monotonic()
        assert sync_allocation(allocation_id=allocation.pk) == "synced"
        users = sacctmgr(env, "show", "assoc", "where", f"account={allocation.slurm_account}", f"cluster={Z}",
                         "format=user").split()
        assert new_login in users
        out = sbatch(env, new_login, allocation.slurm_account, "-t", "1", "--wrap", "hostname")
        assert out.returncode == 0, out.stderr  # no scontrol reconfigure in between
        job_id = out.stdout.strip().split(";")[0]
        print(f"\nconfirmed -> provisioned -> job accepted in {time.monotonic() - started:.1f} s")
        wait_for(lambda: final_state(env, job_id) == "COMPLETED", timeout=60, what=f"job {job_id}")
        assert TeamMember.objects.get(pk=member.pk).confirmed_at is not None
    finally:
        subprocess.run(["userdel", first], capture_output=True, timeout=30)


def test_the_trap_an_association_written_before_the_login_exists(db, stack, new_login):  # noqa: F811
    """What the ordering avoids (and what a site that creates logins by hand after the portal's run meets):
    slurmctld refuses the login's jobs until the association is modified again, `scontrol reconfigure` runs,
    or its hourly retry comes."""
    env = stack["env"]
    first = f"aiff{uuid.uuid4().hex[:6]}"
    useradd(first)
    try:
        allocation, _manager = granted(stack, first)
        subprocess.run(["sacctmgr", "-i", "add", "user", new_login, f"account={allocation.slurm_account}",
                        f"cluster={Z}"], env=env, capture_output=True, timeout=60, check=True)
        useradd(new_login)
        refused = sbatch(env, new_login, allocation.slurm_account, "-t", "1", "--wrap", "hostname")
        assert refused.returncode != 0 and "Invalid account" in refused.stderr, refused.stderr
    finally:
        subprocess.run(["userdel", first], capture_output=True, timeout=30)
