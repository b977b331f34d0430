"""Terms of use gate a person's place in the association, on the real Slurm stack: a confirmed team member
who has not accepted is absent from the account's users in sacctmgr, present once they accept, taken out
when a new version's grace period ends, and put back when they accept it. The seconds each step took are
printed (run with -s)."""

from __future__ import annotations

import datetime
import subprocess
import time
import uuid

import pytest
from django.utils import timezone

from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site
from allocations.grants import services as grants
from allocations.grants.models import AllocationStatus
from allocations.provisioning.services import bootstrap_site, sync_allocation
from allocations.terms import services as terms
from allocations.terms.models import TermsVersion
from tests import factories as f
from tests.integration.conftest import sacctmgr, slurm_env

pytestmark = pytest.mark.slurm

Z = "zellik"


@pytest.fixture
def stack(settings):
    env = slurm_env()
    settings.AIF_SLURM_BACKEND = "sacctmgr"
    settings.AIF_SLURM_CONF = env["SLURM_CONF"]
    f.ensure_reference_data()
    result = bootstrap_site(site=Site.objects.get(code=Z))
    assert result.ok, result.errors
    made: dict[str, list[str]] = {"accounts": [], "parents": []}
    yield env, made
    for account in made["accounts"]:
        users = sacctmgr(env, "show", "assoc", "where", f"account={account}", "format=user").split()
        if users:
            subprocess.run(["sacctmgr", "-i", "delete", "user", "where", "name=" + ",".join(sorted(set(users))),
                            f"account={account}"], env=env, capture_output=True, timeout=60)
        subprocess.run(["sacctmgr", "-i", "delete", "account", "where", f"name={account}"], env=env,
                       capture_output=True, timeout=60)
    for parent in made["parents"]:
        subprocess.run(["sacctmgr", "-i", "delete", "account", "where", f"name={parent}"], env=env,
                       capture_output=True, timeout=60)


def users_in(env, account: str) -> set[str]:
    out = sacctmgr(env, "show", "assoc", "where", f"account={account}", f"cluster={Z}", "format=user")
    return {line.strip() for line in out.splitlines() if line.strip()}


def test_acceptance_gates_the_association_and_a_new_version_takes_late_people_out(
        db, stack, django_capture_on_commit_callbacks):
    env, made = stack
    tag = uuid.uuid4().hex[:5]
    early, late = f"tea{tag}", f"tla{tag}"
    today = timezone.localdate()
    v1 = f.terms_version(effective=today)
    allocation, _manager, _applicant = f.approved_allocation(users=(early, late), start=today)
    made["accounts"].append(allocation.slurm_account)
    made["parents"].append(f"org_{allocation.organisation_id}")
    people = {m.cluster_username: f.member_account(m)
              for m in TeamMember.objects.filter(application_id=allocation.application_id)}
    f.accept_terms(people[early], v1)
    grants.allocation_start_if_due(allocation=allocation)
    assert sync_allocation(allocation_id=allocation.pk) == "synced"
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE
    assert users_in(env, allocation.slurm_account) == {early}, "not accepted: not in the association"

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        terms.terms_accept(actor=people[late], version=v1)
    assert users_in(env, allocation.slurm_account) == {early, late}, "accepting provisions on commit"
    print(f"acceptance to association: {time.monotonic() - started:.2f} s")

    # A second version came into force 31 days ago with 30 days of grace: the grace period is over.
    TermsVersion.objects.filter(pk=v1.pk).update(effective_date=today - datetime.timedelta(days=60),
                                                 resynced_on=today - datetime.timedelta(days=60))
    v2 = f.terms_version(effective=today - datetime.timedelta(days=31), grace_days=30)
    TermsVersion.objects.filter(pk=v2.pk).update(resynced_on=v2.effective_date)
    f.accept_terms(people[early], v2)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert terms.terms_resync_due() == 1
    assert users_in(env, allocation.slurm_account) == {early}, "grace over: the late person is taken out"
    print(f"grace end to removal: {time.monotonic() - started:.2f} s")

    with django_capture_on_commit_callbacks(execute=True):
        terms.terms_accept(actor=people[late], version=TermsVersion.objects.get(pk=v2.pk))
    assert users_in(env, allocation.slurm_account) == {early, late}
