"""GPU types as TRES on the real Slurm 22.05 stack (marker `slurm`): what Slurm accepts and enforces, and what the
portal does with a typed limit set by hand.

The stack's node has two GPUs. Started as usual they are untyped (`AccountingStorageTRES=gres/gpu`): a typed limit
is then refused by sacctmgr, which is what a site that did not list its types meets. Started with
`AIF_SLURM_GPU_TYPES="h100 mi300x"` they are one of each, tracked as `gres/gpu:h100` and `gres/gpu:mi300x`: a typed
limit holds the jobs that ask for that type, not the jobs that ask for any GPU (docs/slurm.md)."""

from __future__ import annotations

import pytest

from allocations.provisioning.slurm import DesiredAccount, DesiredParent, QosSpec
from allocations.provisioning.slurm.plan import SetLimits

from .conftest import run

pytestmark = pytest.mark.slurm

Z = "zellik"
REFUSED = "Job violates accounting/QOS policy"


def typed_gpus(env) -> list[str]:
    out = run(env, "sacctmgr", "-n", "-P", "show", "tres", "format=type,name").stdout
    return sorted(name.split(":", 1)[1] for kind, _, name in (line.partition("|") for line in out.splitlines())
                  if kind == "gres" and name.startswith("gpu:"))


def sbatch(env, user, account, *request):
    return run(env, "runuser", "-u", user, "--", "sbatch", "-M", Z, "--parsable", f"--account={account}", "-t", "1",
               "-o", "/dev/null", *request, "--wrap=sleep 1", check=False)


def test_typed_gpu_limits_on_this_stack(sacctmgr_backend, names, linux_user, slurm_env):
    org, a = names.parent(), names.account("a")
    qos = f"t{names.suffix}_deny"
    types = typed_gpus(slurm_env)
    try:
        assert sacctmgr_backend.bootstrap(Z, [QosSpec(qos, "deny on limit")]).ok
        desired = [DesiredParent(Z, org, "Test organisation", "aif tests"),
                   DesiredAccount(Z, a, org, "Test project", "aif tests", 600, 6000, False, frozenset({linux_user}),
                                  qos)]
        assert sacctmgr_backend.reconcile(Z, desired).ok
        limit = run(slurm_env, "sacctmgr", "-i", "modify", "account", "where", f"name={a}", "cluster=zellik", "set",
                    "GrpTRESMins=cpu=6000,gres/gpu=600,gres/gpu:mi300x=0", check=False)
        if "mi300x" not in types:
            # the site did not list the type in AccountingStorageTRES: Slurm knows no such TRES
            assert limit.returncode != 0
            assert "no TRES known by type gres/gpu:mi300x" in limit.stdout + limit.stderr
            return
        assert limit.returncode == 0, limit.stdout + limit.stderr
        # a typed request over the typed limit is refused at submission (the QOS has DenyOnLimit) ...
        refused = sbatch(slurm_env, linux_user, a, "--gres=gpu:mi300x:1")
        assert refused.returncode != 0 and "AssocGrpGRESMinutes" in refused.stderr and REFUSED in refused.stderr
        # ... the other type runs, and so does an untyped request (which may land on the limited type): a typed
        # limit binds typed requests only, hence the portal's quota on the plain gres/gpu total
        assert sbatch(slurm_env, linux_user, a, "--gres=gpu:h100:1").returncode == 0
        assert sbatch(slurm_env, linux_user, a, "--gpus=1").returncode == 0

        # the typed limit is not the portal's: drift, cleared by a reconcile
        assert sacctmgr_backend.drift(Z, desired) == [
            SetLimits(Z, a, (("cpu", 6000), ("gres/gpu", 600), ("gres/gpu:mi300x", -1)))]
        assert sacctmgr_backend.reconcile(Z, desired).ok
        shown = run(slurm_env, "sacctmgr", "-n", "-P", "show", "assoc", "where", f"account={a}", "cluster=zellik",
                    "user=", "format=grptresmins").stdout.strip()
        assert shown == "cpu=6000,gres/gpu=600"
    finally:
        names.cleanup(slurm_env)
        names.accounts.clear()
        names.parents.clear()
        run(slurm_env, "sacctmgr", "-i", "delete", "qos", qos, check=False)
