"""Provisioning against the real Slurm 22.05 stack of scripts/slurm-stack.sh (marker `slurm`).

Every provisioning test runs with both backends; enforcement is checked as an ordinary Linux user.
"""

from __future__ import annotations

import subprocess
import time
from unittest import mock

import pytest

from allocations.provisioning.slurm import DesiredAccount, DesiredParent, QosSpec, SlurmReconcileError
from allocations.provisioning.slurm.backends.sacctmgr import SacctmgrBackend
from allocations.provisioning.slurm.plan import RemoveUser, SetBlocked, SetLimits

from .conftest import assoc_rows, run

pytestmark = pytest.mark.slurm

Z, C = "zellik", "charleroi"


def account(cluster, name, parent, *, gpu=600, cpu=6000, blocked=False, users=(), qos=None):
    return DesiredAccount(cluster, name, parent, "Test project", "aif tests", gpu, cpu, blocked, frozenset(users), qos)


def parent(cluster, name):
    return DesiredParent(cluster, name, "Test organisation", "aif tests")


def wait_for(predicate, timeout=60.0, interval=0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def job_state(env, cluster, job_id):
    out = run(env, "sacct", "-M", cluster, "-n", "-X", "-P", "-j", job_id, "-o", "state", check=False).stdout
    return out.strip()


def sbatch(env, user, cluster, acct, *extra, wrap="hostname"):
    return run(
        env, "runuser", "-u", user, "--", "sbatch", "-M", cluster, "--parsable", f"--account={acct}", "-t", "2",
        "-o", "/dev/null", *extra, f"--wrap={wrap}", check=False,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------- provisioning


def test_reconcile_creates_accounts_with_limits_and_users_on_the_right_cluster(backend, names, slurm_env):
    org, a, b = names.parent(), names.account("a"), names.account("b")
    u1, u2 = names.user("1"), names.user("2")
    on_z = [
        parent(Z, org),
        account(Z, a, org, gpu=600, cpu=6000, users={u1, u2}),
        account(Z, b, org, gpu=60, cpu=600, blocked=True, users={u1}),
    ]
    on_c = [parent(C, org), account(C, a, org, gpu=100, cpu=1000, users={u2})]

    rz, rc = backend.reconcile(Z, on_z), backend.reconcile(C, on_c)

    assert rz.ok and rc.ok and rz.changed and rc.changed
    assert assoc_rows(slurm_env, [org, a, b]) == {
        (Z, org, "", "root", "", ""),
        (Z, a, "", org, "cpu=6000,gres/gpu=600", ""),
        (Z, a, u1, "", "", ""),
        (Z, a, u2, "", "", ""),
        (Z, b, "", org, "cpu=600,gres/gpu=60", "0"),
        (Z, b, u1, "", "", ""),
        (C, org, "", "root", "", ""),
        (C, a, "", org, "cpu=1000,gres/gpu=100", ""),
        (C, a, u2, "", "", ""),
    }


def test_second_reconcile_writes_nothing_and_reads_once_per_cluster(backend, names, slurm_env):
    org, a = names.parent(), names.account("a")
    desired = {cl: [parent(cl, org), account(cl, a, org, users={names.user(cl[0])})] for cl in (Z, C)}
    for cl in (Z, C):
        backend.reconcile(cl, desired[cl])

    # count what really leaves the process, not only what the result says
    target = backend.session if hasattr(backend, "session") else None
    for cl in (Z, C):
        if target is None:
            with mock.patch(
                "allocations.provisioning.slurm.backends.sacctmgr.subprocess.run", wraps=subprocess.run
            ) as spy:
                result = backend.reconcile(cl, desired[cl])
            calls = spy.call_count
        else:
            with mock.patch.object(target, "request", wraps=target.request) as spy:
                result = backend.reconcile(cl, desired[cl])
            calls = spy.call_count
        assert (result.writes, result.reads, calls) == (0, 1, 1), result.describe()
        assert result.planned == [] and result.ok


def test_drift_is_detected_and_fixed(backend, names, slurm_env):
    org, a = names.parent(), names.account("a")
    member, intruder = names.user("m"), names.user("x")
    desired = [parent(Z, org), account(Z, a, org, gpu=600, cpu=6000, users={member})]
    backend.reconcile(Z, desired)
    # someone edits Slurm by hand
    run(slurm_env, "sacctmgr", "-i", "modify", "account", "where", f"name={a}", "cluster=zellik",
        "set", "GrpTRESMins=gres/gpu=1,mem=5", "GrpSubmitJobs=3")  # fmt: skip
    run(slurm_env, "sacctmgr", "-i", "add", "user", intruder, f"account={a}", "cluster=zellik")

    drift = backend.drift(Z, desired)
    assert {type(c) for c in drift} == {SetLimits, SetBlocked, RemoveUser}
    assert RemoveUser(Z, a, intruder) in drift

    result = backend.reconcile(Z, desired)
    assert result.ok and result.differences == []
    assert assoc_rows(slurm_env, [a]) == {
        (Z, a, "", org, "cpu=6000,gres/gpu=600", ""),
        (Z, a, member, "", "", ""),
    }
    assert backend.drift(Z, desired) == []


def test_block_unblock_and_top_up(backend, names, slurm_env):
    org, a = names.parent(), names.account("a")

    def limits():
        rows = {r for r in assoc_rows(slurm_env, [a]) if r[0] == Z and r[2] == ""}
        (row,) = rows
        return row[4], row[5]

    backend.reconcile(Z, [parent(Z, org), account(Z, a, org, gpu=600)])
    assert limits() == ("cpu=6000,gres/gpu=600", "")
    backend.reconcile(Z, [parent(Z, org), account(Z, a, org, gpu=600, blocked=True)])
    assert limits() == ("cpu=6000,gres/gpu=600", "0")
    backend.reconcile(Z, [parent(Z, org), account(Z, a, org, gpu=1200, cpu=9000)])
    assert limits() == ("cpu=9000,gres/gpu=1200", "")


def test_move_to_another_parent(backend, names, slurm_env):
    org1, org2, a = names.parent("org"), names.parent("org2"), names.account("a")
    backend.reconcile(Z, [parent(Z, org1), parent(Z, org2), account(Z, a, org1)])
    backend.reconcile(Z, [parent(Z, org1), parent(Z, org2), account(Z, a, org2)])
    assert (Z, a, "", org2, "cpu=6000,gres/gpu=600", "") in assoc_rows(slurm_env, [a])


def test_removing_a_user_from_their_default_account(backend, names, slurm_env):
    org, first, second = names.parent(), names.account("first"), names.account("second")
    user = names.user("d")
    # the first account a user gets becomes their default account
    backend.reconcile(Z, [parent(Z, org), account(Z, first, org, users={user})])
    backend.reconcile(Z, [parent(Z, org), account(Z, first, org, users={user}), account(Z, second, org, users={user})])
    result = backend.reconcile(Z, [parent(Z, org), account(Z, first, org), account(Z, second, org, users={user})])
    assert result.ok, result.describe()
    assert {r[1] for r in assoc_rows(slurm_env, [first, second]) if r[2] == user} == {second}


def partition_rows(env, acct) -> set[tuple[str, str]]:
    out = run(env, "sacctmgr", "-n", "-P", "show", "assoc", "where", f"account={acct}", f"cluster={Z}",
              "format=user,partition").stdout
    return {tuple(line.split("|")) for line in out.splitlines() if line.split("|")[0]}


def test_user_associations_follow_the_partitions_named(backend, names, slurm_env):
    """One association per member and partition; a member leaving loses all of them; naming other partitions,
    or none, adds the new associations before removing the old (the account stays each member's default)."""
    from dataclasses import replace

    org, a = names.parent(), names.account("p")
    u1, u2 = names.user("1"), names.user("2")
    first = [parent(Z, org), replace(account(Z, a, org, users={u1, u2}), partitions=("debug", "gpu"))]
    result = backend.reconcile(Z, first)
    assert result.ok, result.describe()
    assert partition_rows(slurm_env, a) == {(u1, "debug"), (u1, "gpu"), (u2, "debug"), (u2, "gpu")}
    assert backend.drift(Z, first) == []

    second = [parent(Z, org), replace(account(Z, a, org, users={u1}), partitions=("gpu",))]
    result = backend.reconcile(Z, second)
    assert result.ok, result.describe()
    assert partition_rows(slurm_env, a) == {(u1, "gpu")}

    third = [parent(Z, org), account(Z, a, org, users={u1})]
    result = backend.reconcile(Z, third)
    assert result.ok, result.describe()
    assert partition_rows(slurm_env, a) == {(u1, "")}
    assert backend.drift(Z, third) == []


def test_bootstrap_qos_and_parents_is_idempotent(backend, names, slurm_env):
    qos = f"t{names.suffix}_qos"
    org, a = names.parent(), names.account("a")
    spec = QosSpec(qos, "SME access", {"gres/gpu": 2, "cpu": 2}, 120, 10)
    try:
        first = backend.bootstrap(Z, [spec], [parent(Z, org)])
        assert first.ok, first.errors
        shown = run(slurm_env, "sacctmgr", "-n", "-P", "show", "qos", "where", f"name={qos}",
                    "format=name,maxtres,maxwall,priority").stdout.strip()  # fmt: skip
        assert shown == f"{qos}|cpu=2,gres/gpu=2|02:00:00|10"
        again = backend.bootstrap(Z, [spec], [parent(Z, org)])
        assert again.ok and again.writes == 0

        backend.reconcile(Z, [parent(Z, org), account(Z, a, org, qos=qos)])
        out = run(slurm_env, "sacctmgr", "-n", "-P", "show", "assoc", "where", f"account={a}", "cluster=zellik",
                  "format=qos,defaultqos").stdout.strip()  # fmt: skip
        assert out == f"{qos}|{qos}"
    finally:
        names.cleanup(slurm_env)
        names.accounts.clear()
        names.parents.clear()
        run(slurm_env, "sacctmgr", "-i", "delete", "qos", qos, check=False)


# ------------------------------------------------------------------------------------------- slurmrestd specifics


def test_rest_read_back_catches_a_silent_noop(rest_backend, names, slurm_env):
    """Slurm 22.05.8: updating a freshly created (newest) account association via REST returns 200 with no
    error and changes nothing. The read-back must catch it; the sacctmgr fallback must then fix it."""
    org, a = names.parent(), names.account("a")
    rest_backend.fallback_to_sacctmgr = False
    rest_backend.reconcile(Z, [parent(Z, org), account(Z, a, org, gpu=600)])

    with pytest.raises(SlurmReconcileError) as err:
        rest_backend.reconcile(Z, [parent(Z, org), account(Z, a, org, gpu=1200)])
    result = err.value.result
    assert (result.writes, result.reads) == (1, 2)
    assert result.differences == [SetLimits(Z, a, (("cpu", 6000), ("gres/gpu", 1200)))], (
        "22.05.8's silent no-op did not happen: if slurmrestd was fixed, update docs/slurm.md"
    )
    assert (Z, a, "", org, "cpu=6000,gres/gpu=600", "") in assoc_rows(slurm_env, [a])

    rest_backend.fallback_to_sacctmgr = True
    fixed = rest_backend.reconcile(Z, [parent(Z, org), account(Z, a, org, gpu=1200)])
    assert fixed.ok
    assert any(c.argv[0].endswith("sacctmgr") and c.kind == "write" for c in fixed.commands)
    assert (Z, a, "", org, "cpu=6000,gres/gpu=1200", "") in assoc_rows(slurm_env, [a])


def test_rest_read_back_catches_a_dropped_write(rest_backend, names, slurm_env):
    """Any write that silently does nothing (here: the request never reaches Slurm) is reported."""
    org, a = names.parent(), names.account("a")
    rest_backend.fallback_to_sacctmgr = False
    real = rest_backend.session.request

    def drop_association_posts(method, url, **kwargs):
        if method == "POST" and url.endswith("/associations"):
            return real("GET", url.replace("/associations", "/clusters"), **{**kwargs, "data": None})
        return real(method, url, **kwargs)

    with mock.patch.object(rest_backend.session, "request", side_effect=drop_association_posts):
        with pytest.raises(SlurmReconcileError, match=f"still differs after read-back: zellik: add account {a}"):
            rest_backend.reconcile(Z, [parent(Z, org), account(Z, a, org)])


def rest_requests(backend, call):
    """Run ``call`` and return what really left the process: (method, path) of every HTTP request."""
    with mock.patch.object(backend.session, "request", wraps=backend.session.request) as spy:
        value = call()
    return value, [(c.args[0], c.args[1].split("/v0.0.38", 1)[1]) for c in spy.call_args_list]


def test_rest_many_changes_take_a_bounded_number_of_requests(rest_backend, names, slurm_env):
    """One request per kind of change and cluster, whatever the number of accounts and users."""
    org1, org2 = names.parent("org1"), names.parent("org2")
    accounts = [names.account(f"a{i}") for i in range(24)]
    users = [names.user(str(i)) for i in range(6)]

    def desired(members):
        return [parent(Z, org1), parent(Z, org2)] + [
            account(Z, a, (org1, org2)[i % 2], gpu=600 + i, blocked=i % 5 == 0, users=members(i))
            for i, a in enumerate(accounts)
        ]

    first = desired(lambda i: {users[i % 6], users[(i + 1) % 6]})
    result, sent = rest_requests(rest_backend, lambda: rest_backend.reconcile(Z, first))
    assert result.ok, result.describe()
    assert len(result.planned) == 2 + 24 + 48
    # read; account records; who has an AdminLevel; 26 account associations; 48 user associations; read back
    assert sent == [
        ("GET", "/associations"),
        ("POST", "/accounts"),
        ("GET", "/users"),
        ("POST", "/associations"),
        ("POST", "/users"),
        ("GET", "/associations"),
    ]
    rows = assoc_rows(slurm_env, accounts)
    assert (Z, accounts[7], "", org2, "cpu=6000,gres/gpu=607", "") in rows
    assert (Z, accounts[5], "", org2, "cpu=6000,gres/gpu=605", "0") in rows
    assert {(r[1], r[2]) for r in rows if r[2]} == {
        (a, u) for a, d in zip(accounts, first[2:], strict=True) for u in d.users
    }

    # A second apart: POST /users on a user record written in the same second adds nothing, and the backend
    # then adds the associations one by one (two requests more; test_rest_a_refused_association_... meets it).
    time.sleep(1.1)
    # every account but the first (the default account of users[0] and users[1]) loses users[0] and
    # users[1] and gains users[2]
    second = desired(
        lambda i: (
            {users[0], users[1], users[2]}
            if i == 0
            else ({users[i % 6], users[(i + 1) % 6]} - set(users[:2])) | {users[2]}
        )
    )
    result, sent = rest_requests(rest_backend, lambda: rest_backend.reconcile(Z, second))
    assert result.ok, result.describe()
    removals = [c for c in result.planned if isinstance(c, RemoveUser)]
    assert len(removals) == 14
    # one DELETE per removed association (22.05's DELETE with comma lists removes only one of them)
    deletes = [("DELETE", "/association")] * len(removals)
    assert sent == [("GET", "/associations"), ("GET", "/users"), ("POST", "/users"), *deletes, ("GET", "/associations")]
    assert {(r[1], r[2]) for r in assoc_rows(slurm_env, accounts) if r[2]} == {
        (a, u) for a, d in zip(accounts, second[2:], strict=True) for u in d.users
    }


def test_rest_a_refused_association_is_named_and_the_rest_converges_next_time(rest_backend, names, slurm_env):
    """slurmrestd refuses a whole batch without saying which item: the backend finds it, writes the
    others, and names it; the next reconcile, once the cause is gone, converges."""
    rest_backend.fallback_to_sacctmgr = False
    org, a, odd, b = names.parent("org"), names.account("a"), names.account("odd"), names.account("b")
    member = names.user("m")
    qos = f"t{names.suffix}_q"  # not defined in Slurm yet: slurmrestd refuses the association
    desired = [
        parent(Z, org),
        account(Z, a, org, users={member}),
        account(Z, odd, org, users={member}, qos=qos),
        account(Z, b, org, users={member}),
    ]
    try:
        with pytest.raises(SlurmReconcileError) as err:
            rest_backend.reconcile(Z, desired)
        result = err.value.result
        (error,) = result.errors
        assert error.startswith(
            f"zellik: add account {odd} under {org} (gpu 600 min, cpu 6000 min): refused by slurmrestd: HTTP"
        )
        written = {(r[1], r[2]) for r in assoc_rows(slurm_env, [org, a, odd, b])}
        assert written == {(org, ""), (a, ""), (a, member), (b, ""), (b, member)}
        assert {c.describe() for c in result.differences} >= {f"zellik: add user {member} to {odd}"}

        run(slurm_env, "sacctmgr", "-i", "add", "qos", qos)
        fixed = rest_backend.reconcile(Z, desired)  # within a second of the first: POST /users drops odd's
        assert fixed.ok, fixed.describe()          # user association; the read-back finds it, and it is added
        assert (Z, odd, member, "", "", "") in assoc_rows(slurm_env, [odd])
    finally:
        names.cleanup(slurm_env)
        names.accounts.clear(), names.parents.clear(), names.users.clear()
        run(slurm_env, "sacctmgr", "-i", "delete", "qos", qos, check=False)


def test_rest_adding_a_slurm_operator_to_an_account_keeps_their_admin_level(rest_backend, names, slurm_env):
    """POST /users rewrites an existing user's AdminLevel: an operator is added by association instead."""
    operator = slurm_env.get("AIF_SLURM_OPERATOR", "aifportal")
    org, a = names.parent(), names.account("a")
    newcomer = names.user("n")
    result = rest_backend.reconcile(Z, [parent(Z, org), account(Z, a, org, users={operator, newcomer})])
    assert result.ok, result.describe()
    levels = run(slurm_env, "sacctmgr", "-n", "-P", "show", "user", operator, newcomer, "format=user,admin").stdout
    assert set(levels.split()) == {f"{operator}|Operator", f"{newcomer}|None"}
    assert {r[2] for r in assoc_rows(slurm_env, [a])} == {"", operator, newcomer}


# ------------------------------------------------------------------------------ operator, enforcement, usage


def test_operator_account_can_provision_without_root(slurm_env, names):
    operator = slurm_env.get("AIF_SLURM_OPERATOR", "aifportal")
    backend = SacctmgrBackend(slurm_conf=slurm_env["SLURM_CONF"], command_prefix=("runuser", "-u", operator, "--"))
    org, a = names.parent(), names.account("a")
    result = backend.reconcile(Z, [parent(Z, org), account(Z, a, org, users={names.user("o")})])
    assert result.ok, result.describe()
    assert all(c.argv[:4] == ("runuser", "-u", operator, "--") for c in result.commands)
    # an Operator may not `load`: the refusal is recorded and grouped adds did the work
    refused = [c for c in result.commands if "load" in c.argv]
    assert len(refused) == 1 and not refused[0].ok and "privileges" in refused[0].stdout + refused[0].stderr
    assert backend.use_load is False


def test_enforcement_as_an_ordinary_user(sacctmgr_backend, names, linux_user, slurm_env):
    org, a, other = names.parent(), names.account("run"), names.account("other")

    def desired(**kw):
        return [parent(Z, org), account(Z, a, org, users={linux_user}, **kw), account(Z, other, org)]

    # active: the job runs and is accounted
    sacctmgr_backend.reconcile(Z, desired())
    job = sbatch(slurm_env, linux_user, Z, a)
    assert job.returncode == 0, job.stderr
    job_id = job.stdout.strip().split(";")[0]
    assert wait_for(lambda: job_state(slurm_env, Z, job_id) == "COMPLETED"), job_state(slurm_env, Z, job_id)

    # blocked: refused at submission
    sacctmgr_backend.reconcile(Z, desired(blocked=True))
    refused = sbatch(slurm_env, linux_user, Z, a)
    assert refused.returncode != 0
    assert "AssocGrpSubmitJobsLimit" in refused.stderr

    # not a member of that account: refused
    stranger = sbatch(slurm_env, linux_user, Z, other)
    assert stranger.returncode != 0 and "Invalid account" in stranger.stderr

    # quota used up (0 CPU minutes): accepted but held; a top-up releases it
    sacctmgr_backend.reconcile(Z, desired(cpu=0))
    held = sbatch(slurm_env, linux_user, Z, a)
    assert held.returncode == 0, held.stderr
    held_id = held.stdout.strip().split(";")[0]

    def reason():
        return run(slurm_env, "squeue", "-M", Z, "-h", "-j", held_id, "-o", "%T %r", check=False).stdout

    assert wait_for(lambda: "PENDING AssocGrpCPUMinutesLimit" in reason(), timeout=20), reason()
    sacctmgr_backend.reconcile(Z, desired(cpu=6000))
    assert wait_for(lambda: job_state(slurm_env, Z, held_id) == "COMPLETED"), job_state(slurm_env, Z, held_id)


def test_usage_after_a_job(sacctmgr_backend, rest_backend, names, linux_user, slurm_env):
    org, a, idle = names.parent(), names.account("used"), names.account("idle")
    sacctmgr_backend.reconcile(C, [parent(C, org), account(C, a, org, users={linux_user}), account(C, idle, org)])
    # GrpTRESRaw is in whole TRES-minutes: 2 CPUs and 2 GPUs for 31 s give 1 of each
    job = sbatch(slurm_env, linux_user, C, a, "-c", "2", "--gres=gpu:2", wrap="sleep 31")
    assert job.returncode == 0, job.stderr
    job_id = job.stdout.strip().split(";")[0]
    assert wait_for(lambda: job_state(slurm_env, C, job_id) == "COMPLETED", timeout=90)

    usage = sacctmgr_backend.usage(C, [a, idle])
    assert usage[a]["gpu_minutes"] >= 1 and usage[a]["cpu_minutes"] >= 1, usage
    assert usage[idle] == {"gpu_minutes": 0, "cpu_minutes": 0}
    assert rest_backend.usage(C, [a, idle]) == usage
