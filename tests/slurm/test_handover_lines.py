"""The sacctmgr lines a hand-over task gives the remote operators, run by hand on the real stack: the
cluster then holds exactly the desired state (the planner finds nothing left to change)."""

from __future__ import annotations

import shlex

import pytest

from allocations.provisioning.slurm import DesiredAccount, DesiredParent
from allocations.provisioning.slurm.handover import handover_plan, sacctmgr_lines

from .conftest import run

pytestmark = pytest.mark.slurm

Z = "zellik"


def as_stored(desired) -> list[dict]:
    """A task's stored ``changes``, as provisioning.services._handover writes them."""
    return [{"kind": type(d).__name__, **{k: (sorted(v) if isinstance(v, frozenset) else v)
                                         for k, v in ((name, getattr(d, name)) for name in d.__slots__)}}
            for d in desired]


def run_by_hand(env, lines):
    for line in lines:
        result = run(env, *shlex.split(line), check=False)
        assert result.returncode == 0, f"{line}: {result.stdout}{result.stderr}"


def test_the_hand_over_lines_bring_the_cluster_to_each_desired_version(sacctmgr_backend, names, slurm_env):
    org, acct = names.parent(), names.account("h")
    u1, u2, u3 = names.user("1"), names.user("2"), names.user("3")
    v1 = [DesiredParent(Z, org, "Test organisation", "aif tests"),
          DesiredAccount(Z, acct, org, "Test project", "aif tests", 600, 6000, True, frozenset({u1, u2}))]
    lines = sacctmgr_lines(handover_plan(v1))
    assert lines[0].startswith(f"sacctmgr -i add account {org} cluster={Z} parent=root")
    run_by_hand(slurm_env, lines)
    assert sacctmgr_backend.drift(Z, v1) == []

    # v2 from what v1 put there: opened, topped up, one user swapped; only modifications and the user change
    v2 = [v1[0], DesiredAccount(Z, acct, org, "Test project", "aif tests", 1200, None, False, frozenset({u1, u3}))]
    lines = sacctmgr_lines(handover_plan(v2, as_stored(v1)))
    assert lines == [
        f"sacctmgr -i modify account where name={acct} cluster={Z} set GrpTRESMins=cpu=-1,gres/gpu=1200",
        f"sacctmgr -i modify account where name={acct} cluster={Z} set GrpSubmitJobs=-1 GrpJobs=-1",
        f"sacctmgr -i add user {u3} account={acct} cluster={Z}",
        f"sacctmgr -i delete user where name={u2} account={acct} cluster={Z}",
    ]
    run_by_hand(slurm_env, lines)
    assert sacctmgr_backend.drift(Z, v2) == []


def test_the_hand_over_lines_carry_the_site_data(sacctmgr_backend, names, slurm_env):
    """Fair share, MaxJobs, MaxWall and GrpTRES from the site data: on the first task's add lines, then changed
    alone by a later one."""
    org, acct = names.parent(), names.account("s")
    v1 = [DesiredParent(Z, org, "Test organisation", "aif tests", 30),
          DesiredAccount(Z, acct, org, "Test project", "aif tests", 600, 6000, False, frozenset(), fairshare=20,
                         max_jobs=4, max_wall_minutes=720, grp_tres={"gres/gpu": 2})]
    lines = sacctmgr_lines(handover_plan(v1))
    assert lines[0].endswith("Fairshare=30")
    assert "GrpTRES=gres/gpu=2 MaxJobs=4 MaxWall=720" in lines[1] and lines[1].endswith("Fairshare=20")
    run_by_hand(slurm_env, lines)
    assert sacctmgr_backend.drift(Z, v1) == []

    v2 = [DesiredParent(Z, org, "Test organisation", "aif tests"),
          DesiredAccount(Z, acct, org, "Test project", "aif tests", 600, 6000, False, frozenset(), fairshare=20)]
    lines = sacctmgr_lines(handover_plan(v2, as_stored(v1)))
    assert lines == [
        f"sacctmgr -i modify account where name={acct} cluster={Z} set GrpTRES=gres/gpu=-1",
        f"sacctmgr -i modify account where name={acct} cluster={Z} set MaxJobs=-1",
        f"sacctmgr -i modify account where name={acct} cluster={Z} set MaxWall=-1",
        f"sacctmgr -i modify account where name={org} cluster={Z} set Fairshare=1",
    ]
    run_by_hand(slurm_env, lines)
    assert sacctmgr_backend.drift(Z, v2) == []


def test_the_hand_over_lines_name_the_partitions(sacctmgr_backend, names, slurm_env):
    """A mode limited to partitions: one add line per member and partition; naming none again adds the
    association that names none before deleting the partitions' ones (``partition=`` names it alone)."""
    org, acct = names.parent(), names.account("p")
    u1 = names.user("1")
    v1 = [DesiredParent(Z, org, "Test organisation", "aif tests"),
          DesiredAccount(Z, acct, org, "Test project", "aif tests", 600, 6000, False, frozenset({u1}),
                         partitions=("debug", "gpu"))]
    lines = sacctmgr_lines(handover_plan(v1))
    assert lines[-2:] == [f"sacctmgr -i add user {u1} account={acct} cluster={Z} partition=debug",
                          f"sacctmgr -i add user {u1} account={acct} cluster={Z} partition=gpu"]
    run_by_hand(slurm_env, lines)
    assert sacctmgr_backend.drift(Z, v1) == []

    v2 = [v1[0], DesiredAccount(Z, acct, org, "Test project", "aif tests", 600, 6000, False, frozenset({u1}))]
    lines = sacctmgr_lines(handover_plan(v2, as_stored(v1)))
    assert lines == [
        f"sacctmgr -i add user {u1} account={acct} cluster={Z}",
        f"sacctmgr -i delete user where name={u1} account={acct} cluster={Z} partition=debug",
        f"sacctmgr -i delete user where name={u1} account={acct} cluster={Z} partition=gpu",
    ]
    run_by_hand(slurm_env, lines)
    assert sacctmgr_backend.drift(Z, v2) == []
