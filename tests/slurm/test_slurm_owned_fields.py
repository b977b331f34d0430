"""Every setting the portal owns on an association, on the real Slurm 22.05 stack (marker `slurm`), with both
backends: written on creation, read back, found as drift when set by hand and corrected; the settings the portal
does not own stay as the site set them."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from allocations.provisioning.slurm import DesiredAccount, DesiredParent, QosSpec
from allocations.provisioning.slurm.plan import SetFairshare, SetGrpTres, SetMaxJobs, SetMaxWall, SetQos

from .conftest import run

pytestmark = pytest.mark.slurm

Z = "zellik"
# what a site or an access mode may ask for: every owned setting away from Slurm's default
SITE_VALUES = {"fairshare": 20, "max_jobs": 4, "max_wall_minutes": 720, "grp_tres": {"gres/gpu": 2}}


def account(name, parent, **settings):
    return DesiredAccount(Z, name, parent, "Test project", "aif tests", 600, 6000, False, frozenset(), **settings)


def parent(name, fairshare=1):
    return DesiredParent(Z, name, "Test organisation", "aif tests", fairshare)


def shown(env, name, fields="grptres,maxjobs,maxwall,fairshare") -> str:
    return run(env, "sacctmgr", "-n", "-P", "show", "assoc", "where", f"account={name}", "cluster=zellik",
               "user=", f"format={fields}").stdout.strip()


def test_settings_set_by_hand_are_drift_and_corrected_while_the_sites_own_stay(backend, names, slurm_env):
    org, a = names.parent(), names.account("a")
    desired = [parent(org), account(a, org)]
    assert backend.reconcile(Z, desired).ok
    assert shown(slurm_env, a) == "|||1"
    # someone edits Slurm by hand: settings the portal owns, and others it leaves to the site
    run(slurm_env, "sacctmgr", "-i", "modify", "account", "where", f"name={a}", "cluster=zellik", "set",
        "MaxJobs=5", "Fairshare=99", "GrpTRES=gres/gpu=1", "MaxWall=01:30:00", "MaxSubmitJobs=7", "GrpWall=100",
        "MaxTRES=cpu=2")
    run(slurm_env, "sacctmgr", "-i", "modify", "account", "where", f"name={org}", "cluster=zellik", "set",
        "Fairshare=42")

    drift = backend.drift(Z, desired)
    assert sorted(drift, key=repr) == sorted([
        SetGrpTres(Z, a, (("gres/gpu", -1),)), SetMaxJobs(Z, a, None), SetMaxWall(Z, a, None),
        SetFairshare(Z, a, 1), SetFairshare(Z, org, 1)], key=repr)

    result = backend.reconcile(Z, desired)
    assert result.ok and result.differences == []
    assert shown(slurm_env, a) == "|||1"
    assert shown(slurm_env, org, "fairshare") == "1"
    # the site's own settings were left alone
    assert shown(slurm_env, a, "maxsubmit,grpwall,maxtres") == "7|01:40:00|cpu=2"
    assert backend.drift(Z, desired) == []


def test_the_sites_values_are_written_on_creation_and_kept(backend, names, slurm_env):
    org, a, b = names.parent(), names.account("a"), names.account("b")
    desired = [parent(org, fairshare=30), account(a, org, **SITE_VALUES), account(b, org)]
    first = backend.reconcile(Z, desired)
    assert first.ok and first.differences == [], first.describe()
    assert shown(slurm_env, a) == "gres/gpu=2|4|12:00:00|20"
    assert shown(slurm_env, b) == "|||1"
    assert shown(slurm_env, org, "fairshare") == "30"
    assert backend.drift(Z, desired) == []

    # the operator changes the site data: the next reconcile writes it, and unsets what is no longer asked
    changed = [parent(org, fairshare=10), account(a, org), replace(account(b, org), **SITE_VALUES)]
    result = backend.reconcile(Z, changed)
    assert result.ok and result.differences == [], result.describe()
    assert shown(slurm_env, a) == "|||1"
    assert shown(slurm_env, b) == "gres/gpu=2|4|12:00:00|20"
    assert shown(slurm_env, org, "fairshare") == "10"


def test_a_default_qos_from_the_site_beside_the_modes_qos(backend, names, slurm_env):
    mode_qos, site_qos = f"t{names.suffix}_mode", f"t{names.suffix}_site"
    org, a = names.parent(), names.account("a")
    try:
        assert backend.bootstrap(Z, [QosSpec(mode_qos, "mode"), QosSpec(site_qos, "site")]).ok
        desired = [parent(org), account(a, org, qos=mode_qos)]
        assert backend.reconcile(Z, desired).ok
        assert shown(slurm_env, a, "qos,defaultqos") == f"{mode_qos}|{mode_qos}"

        with_default = [parent(org), account(a, org, qos=mode_qos, default_qos=site_qos)]
        assert backend.drift(Z, with_default) == [SetQos(Z, a, mode_qos, site_qos)]
        result = backend.reconcile(Z, with_default)
        assert result.ok and result.differences == [], result.describe()
        assert shown(slurm_env, a, "qos,defaultqos") == f"{mode_qos},{site_qos}|{site_qos}"
        assert backend.drift(Z, with_default) == []
    finally:
        names.cleanup(slurm_env)
        names.accounts.clear()
        names.parents.clear()
        run(slurm_env, "sacctmgr", "-i", "delete", "qos", f"{mode_qos},{site_qos}", check=False)


def test_maxjobs_set_by_the_site_is_enforced_for_an_ordinary_user(sacctmgr_backend, names, linux_user, slurm_env):
    """MaxJobs=1: while a user's job runs, their second job waits with reason AssocMaxJobsLimit."""
    org, a = names.parent(), names.account("a")
    desired = [parent(org), replace(account(a, org, max_jobs=1), users=frozenset({linux_user}))]
    assert sacctmgr_backend.reconcile(Z, desired).ok

    def submit():
        out = run(slurm_env, "runuser", "-u", linux_user, "--", "sbatch", "-M", Z, "--parsable", f"--account={a}",
                  "-t", "2", "-o", "/dev/null", "--wrap=sleep 60", check=False)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().split(";")[0]

    def state_and_reason(job_id):
        return run(slurm_env, "squeue", "-M", Z, "-h", "-j", job_id, "-o", "%T|%r", check=False).stdout.strip()

    first = submit()
    assert wait_for(lambda: state_and_reason(first).startswith("RUNNING"), 90), state_and_reason(first)
    second = submit()
    assert wait_for(lambda: state_and_reason(second) == "PENDING|AssocMaxJobsLimit", 30), state_and_reason(second)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()
