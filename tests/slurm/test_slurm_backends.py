"""Backends with a fake sacctmgr / fake slurmrestd: command batching, rc handling, read-back verification."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import jwt
import pytest

from allocations.provisioning.slurm import (
    DesiredAccount,
    DesiredParent,
    QosSpec,
    SlurmCommandError,
    SlurmReconcileError,
    SlurmValueError,
    get_backend,
)
from allocations.provisioning.slurm.backends import _REGISTRY, available_backends, register_backend
from allocations.provisioning.slurm.backends.sacctmgr import SacctmgrBackend
from allocations.provisioning.slurm.backends.slurmrestd import SlurmrestdBackend
from allocations.provisioning.slurm.plan import (
    AddAccount,
    AddParent,
    AddUser,
    RemoveUser,
    SetBlocked,
    SetLimits,
    SetParent,
    SetQos,
)

Z = "zellik"


def acct(name="proj_a", gpu=600, blocked=False, users=("alice",), qos=None, parent="org_a"):
    return DesiredAccount(Z, name, parent, "Project", "acme", gpu, 6000, blocked, frozenset(users), qos)


PARENT = DesiredParent(Z, "org_a", "ACME", "acme")


class FakeSacctmgr:
    """Stands in for subprocess.run: answers reads from a script, records every argv."""

    def __init__(self, respond: Callable[[list[str]], tuple[int, str, str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.load_files: list[str] = []
        self.respond = respond or (lambda argv: (0, "", ""))

    def __call__(self, argv, **kwargs):
        assert isinstance(argv, list | tuple), "argument list, never a shell string"
        assert not kwargs.get("shell"), "never shell=True"
        assert kwargs.get("timeout"), "always a timeout"
        argv = list(argv)
        self.calls.append(argv)
        for arg in argv:
            if arg.startswith("file="):
                self.load_files.append(Path(arg[5:]).read_text())
        rc, out, err = self.respond(argv)
        return subprocess.CompletedProcess(argv, rc, out, err)

    def writes(self) -> list[list[str]]:
        return [c for c in self.calls if "-i" in c]


@pytest.fixture
def fake():
    fake = FakeSacctmgr()
    with mock.patch("allocations.provisioning.slurm.backends.sacctmgr.subprocess.run", fake):
        yield fake


# ------------------------------------------------------------------------------------------- sacctmgr


def test_read_is_one_call_with_cluster_and_format(fake):
    fake.respond = lambda argv: (
        0, "proj_a|||org_a|cpu=1,gres/gpu=2||normal||||||1\nproj_a|bob|||||normal||||||1\n", "")
    backend = SacctmgrBackend(sacctmgr="/opt/slurm/bin/sacctmgr", slurm_conf="/etc/x/slurm.conf")
    with mock.patch.dict("os.environ", {}, clear=False):
        accounts = backend.read(Z)
    assert fake.calls == [
        ["/opt/slurm/bin/sacctmgr", "-n", "-P", "show", "assoc", "where", "cluster=zellik",
         "format=account,user,partition,parentname,grptresmins,grpsubmit,qos,defaultqos,grpjobs,grptres,maxjobs,"
         "maxwall,fairshare"]
    ]  # fmt: skip
    assert accounts["proj_a"].users == {"bob"}


def test_slurm_conf_and_prefix_are_passed(fake):
    seen: dict[str, Any] = {}

    def run(argv, **kwargs):
        seen.update(kwargs)
        return subprocess.CompletedProcess(argv, 0, "", "")

    backend = SacctmgrBackend(slurm_conf="/etc/x/slurm.conf", command_prefix=("runuser", "-u", "ops", "--"))
    with mock.patch("allocations.provisioning.slurm.backends.sacctmgr.subprocess.run", side_effect=run) as patched:
        backend.read(Z, {"proj_a", "org_a"})
    argv = patched.call_args.args[0]
    assert argv[:5] == ("runuser", "-u", "ops", "--", "sacctmgr")
    assert "account=org_a,proj_a" in argv
    assert seen["env"]["SLURM_CONF"] == "/etc/x/slurm.conf"
    assert seen["stdin"] is subprocess.DEVNULL


def test_read_of_nothing_runs_nothing(fake):
    assert SacctmgrBackend().read(Z, set()) == {}
    assert fake.calls == []


def test_apply_batches_all_additions_into_one_load(fake):
    changes = [
        AddParent(Z, "org_a", "ACME", "acme"),
        *[AddAccount(Z, f"proj_{i}", "org_a", "P", "acme", 1, 2, False) for i in range(50)],
        *[AddUser(Z, f"proj_{i}", "alice") for i in range(50)],
    ]
    result = SacctmgrBackend().apply(Z, changes)
    assert result.ok and result.writes == 1
    assert fake.calls[0][:3] == ["sacctmgr", "-i", "load"]
    assert fake.load_files[0].count("Account - ") == 51
    assert result.commands[0].input == fake.load_files[0]


def test_operator_refused_load_falls_back_to_grouped_adds(fake):
    def respond(argv):
        if "load" in argv:
            return 1, " Your user does not have sufficient privileges to load files.\n", ""
        return 0, "", ""

    fake.respond = respond
    backend = SacctmgrBackend()
    changes = [
        AddParent(Z, "org_a", "ACME", "acme"),
        AddAccount(Z, "proj_a", "org_a", "P", "acme", 1, 2, False),
        AddAccount(Z, "proj_b", "org_a", "P", "acme", 1, 2, False),
        AddAccount(Z, "proj_c", "org_a", "Q", "acme", 1, 2, True, "aif_sme"),
        AddUser(Z, "proj_a", "alice"),
        AddUser(Z, "proj_b", "alice"),
        AddUser(Z, "proj_c", "bob"),
    ]
    result = backend.apply(Z, changes)
    assert result.ok, result.errors
    assert [c[2:] for c in fake.writes()] == [
        ["load", fake.calls[0][3]],
        ["add", "account", "org_a", "cluster=zellik", "parent=root", "Description=ACME", "Organization=acme"],
        ["add", "account", "proj_a,proj_b", "cluster=zellik", "parent=org_a", "Description=P", "Organization=acme",
         "GrpTRESMins=cpu=2,gres/gpu=1"],
        ["add", "account", "proj_c", "cluster=zellik", "parent=org_a", "Description=Q", "Organization=acme",
         "GrpTRESMins=cpu=2,gres/gpu=1", "GrpSubmitJobs=0", "GrpJobs=0", "QOS=aif_sme", "DefaultQOS=aif_sme"],
        ["add", "user", "alice", "account=proj_a,proj_b", "cluster=zellik"],
        ["add", "user", "bob", "account=proj_c", "cluster=zellik"],
    ]  # fmt: skip
    assert not result.commands[0].ok  # the refused load is recorded
    fake.calls.clear()
    backend.apply(Z, [AddUser(Z, "proj_a", "carol")])
    assert [c[2] for c in fake.calls] == ["add"]  # no second attempt at load


def test_apply_groups_identical_modifications(fake):
    changes = [
        SetParent(Z, "proj_a", "org_b"),
        SetLimits(Z, "proj_b", (("cpu", 10), ("gres/gpu", 1))),
        SetBlocked(Z, "proj_c", True),
        SetBlocked(Z, "proj_d", True),
        SetBlocked(Z, "proj_e", False),
        SetQos(Z, "proj_f", "aif_sme"),
        SetLimits(Z, "proj_g", (("cpu", 10), ("gres/gpu", 1))),
        SetBlocked(Z, "proj_g", True),
    ]
    result = SacctmgrBackend().apply(Z, changes)
    assert result.ok
    writes = [c[3:] for c in fake.writes()]
    assert writes[0] == ["account", "where", "name=proj_a", "cluster=zellik", "set", "parent=org_b"]  # moves first
    assert sorted(writes[1:]) == [
        ["account", "where", "name=proj_b", "cluster=zellik", "set", "GrpTRESMins=cpu=10,gres/gpu=1"],
        ["account", "where", "name=proj_c,proj_d", "cluster=zellik", "set", "GrpSubmitJobs=0", "GrpJobs=0"],
        ["account", "where", "name=proj_e", "cluster=zellik", "set", "GrpSubmitJobs=-1", "GrpJobs=-1"],
        ["account", "where", "name=proj_f", "cluster=zellik", "set", "QOS=aif_sme", "DefaultQOS=aif_sme"],
        ["account", "where", "name=proj_g", "cluster=zellik", "set", "GrpTRESMins=cpu=10,gres/gpu=1",
         "GrpSubmitJobs=0", "GrpJobs=0"],
    ]  # fmt: skip


def test_removals_grouped_by_identical_user_sets(fake):
    changes = [RemoveUser(Z, "proj_a", "bob"), RemoveUser(Z, "proj_b", "bob"), RemoveUser(Z, "proj_c", "eve")]
    SacctmgrBackend().apply(Z, changes)
    assert [c[3:] for c in fake.writes()] == [
        ["user", "where", "name=bob", "account=proj_a,proj_b", "cluster=zellik"],
        ["user", "where", "name=eve", "account=proj_c", "cluster=zellik"],
    ]


@pytest.mark.parametrize(
    ("output", "load_ok", "delete_ok"),
    [
        (" Nothing new added.\n", True, False),
        (" Nothing deleted\n", False, True),
        ("Unknown option: x\n", False, False),
    ],
)
def test_rc1_is_success_only_with_the_message_of_that_command(fake, output, load_ok, delete_ok):
    fake.respond = lambda argv: (1, output, "")
    backend = SacctmgrBackend()
    assert backend.apply(Z, [AddUser(Z, "proj_a", "bob")]).ok == load_ok
    assert backend.apply(Z, [RemoveUser(Z, "proj_a", "bob")]).ok == delete_ok


def test_partition_associations_are_loaded_added_and_removed_by_partition(fake):
    changes = [AddUser(Z, "proj_a", "alice", "gpu"), AddUser(Z, "proj_b", "alice", "gpu"),
               AddUser(Z, "proj_a", "bob", ""), RemoveUser(Z, "proj_a", "alice", ""),
               RemoveUser(Z, "proj_b", "alice", ""), RemoveUser(Z, "proj_a", "carol", "debug"),
               RemoveUser(Z, "proj_a", "dan")]
    result = SacctmgrBackend().apply(Z, changes)
    assert result.ok, result.errors
    assert "User - 'alice':Partition='gpu'" in fake.load_files[0]
    assert "User - 'bob'\n" in fake.load_files[0]
    deletes = [c[2:] for c in fake.writes() if c[2:4] == ["delete", "user"]]
    # "partition=" with nothing after it is the association that names none; without it, every one of the user
    assert deletes == [
        ["delete", "user", "where", "name=dan", "account=proj_a", "cluster=zellik"],
        ["delete", "user", "where", "name=carol", "account=proj_a", "cluster=zellik", "partition=debug"],
        ["delete", "user", "where", "name=alice", "account=proj_a,proj_b", "cluster=zellik", "partition="],
    ]
    # Without load (an Operator), users are added per partition.
    fake.calls.clear()
    fake.respond = lambda argv: ((1, " Your user does not have sufficient privileges to load files.\n", "")
                                 if "load" in argv else (0, "", ""))
    assert SacctmgrBackend().apply(Z, changes[:3]).ok
    adds = [c[2:] for c in fake.writes() if c[2:4] == ["add", "user"]]
    assert adds == [["add", "user", "bob", "account=proj_a", "cluster=zellik"],
                    ["add", "user", "alice", "account=proj_a,proj_b", "cluster=zellik", "partition=gpu"]]


def test_failed_command_stops_apply_and_is_recorded(fake):
    fake.respond = lambda argv: (1, "", "sacctmgr: error: slurmdb_format_tres_str: no TRES known by type gres/tpu")
    result = SacctmgrBackend().apply(Z, [AddUser(Z, "proj_a", "bob"), SetBlocked(Z, "proj_a", True)])
    assert not result.ok
    assert "no TRES known" in result.errors[0]
    assert len(fake.calls) == 1 and result.commands[0].returncode == 1 and not result.commands[0].ok


def test_default_account_refusal_moves_default_then_retries(fake):
    refusals = [1, 2]  # the grouped delete, then the single delete of proj_a

    def respond(argv):
        if argv[2:4] == ["delete", "user"] and refusals:
            refusals.pop()
            return 1, " Error with request: You can not remove the default account of a user\n", ""
        if argv[1:4] == ["-n", "-P", "show"]:
            return 0, "proj_a\nproj_z\n", ""
        return 0, "", ""

    fake.respond = respond
    result = SacctmgrBackend().apply(Z, [RemoveUser(Z, "proj_a", "bob"), RemoveUser(Z, "proj_b", "bob")])
    assert result.ok, result.errors
    assert ["-i", "modify", "user", "where", "name=bob", "cluster=zellik", "set", "DefaultAccount=proj_z"] in [
        c[1:] for c in fake.calls
    ]


def test_timeout_and_missing_executable_are_errors(fake):
    def timeout(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, 1.0, output=b"partial")

    with mock.patch("allocations.provisioning.slurm.backends.sacctmgr.subprocess.run", side_effect=timeout):
        with pytest.raises(SlurmCommandError, match="timeout"):
            SacctmgrBackend(timeout=1.0).read(Z)
        result = SacctmgrBackend(timeout=1.0).apply(Z, [SetBlocked(Z, "proj_a", True)])
        assert not result.ok and result.commands[0].returncode == -9


def test_missing_executable_is_an_error():
    with pytest.raises(SlurmCommandError, match="not found"):
        SacctmgrBackend(sacctmgr="/nonexistent/sacctmgr").read(Z)


def test_usage_uses_sshare_and_filters(fake):
    fake.respond = lambda argv: (0, "CLUSTER: zellik\nproj_a||cpu=7,gres/gpu=3\norg_a||cpu=9,gres/gpu=9\n", "")
    usage = SacctmgrBackend(sshare="/usr/bin/sshare").usage(Z, ["proj_a", "proj_b"])
    assert fake.calls == [
        ["/usr/bin/sshare", "-n", "-P", "-M", "zellik", "-A", "proj_a,proj_b", "-o", "account,user,grptresraw"]
    ]
    assert usage == {"proj_a": {"gpu_minutes": 3, "cpu_minutes": 7}}


QOS_BEFORE = "normal|Normal QOS default|||0|\naif_ind|industry|gres/gpu=8|1-00:00:00|0|NoReserve\n"
QOS_AFTER = (QOS_BEFORE.replace("|NoReserve", "|DenyOnLimit,NoReserve")
             + "aif_sme|sme|gres/gpu=2|02:00:00|10|DenyOnLimit\n")
QOS_SPECS = [QosSpec("aif_sme", "SME", {"gres/gpu": 2}, 120, 10), QosSpec("aif_ind", "Industry", {"gres/gpu": 8}, 1440)]


def qos_slurm(fake, *, writes_take_effect=True):
    """show qos answers the table before any write, and after one the table the writes should give."""

    def respond(argv):
        if "qos" in argv and "show" in argv:
            wrote = any("-i" in call for call in fake.calls)
            return 0, QOS_AFTER if wrote and writes_take_effect else QOS_BEFORE, ""
        return 0, "", ""

    fake.respond = respond


def test_bootstrap_adds_missing_qos_and_updates_changed_ones(fake):
    qos_slurm(fake)
    result = SacctmgrBackend().bootstrap(Z, QOS_SPECS)
    assert result.ok, result.errors
    assert [c[2:] for c in fake.writes()] == [
        ["add", "qos", "aif_sme"],
        ["modify", "qos", "where", "name=aif_sme", "set", "Description=SME", "Priority=10", "MaxWall=120",
         "MaxTRESPerJob=gres/gpu=2", "Flags+=DenyOnLimit"],
        ["modify", "qos", "where", "name=aif_ind", "set", "Description=Industry", "Priority=0", "MaxWall=1440",
         "MaxTRESPerJob=gres/gpu=8", "Flags+=DenyOnLimit"],
    ]  # fmt: skip
    assert [c.kind for c in result.commands] == ["read", "write", "write", "write", "read"]  # read back


def test_check_qos_reports_without_writing_and_a_write_that_does_not_hold_is_an_error(fake):
    qos_slurm(fake)
    found = SacctmgrBackend().check_qos(QOS_SPECS, fix=False)
    # the description differs only in case (sacctmgr lower-cases it): not a difference
    assert found == ["QOS aif_sme is missing", "QOS aif_ind: flag DenyOnLimit missing"]
    assert fake.writes() == []
    fake.calls.clear()
    qos_slurm(fake, writes_take_effect=False)
    result = SacctmgrBackend().bootstrap(Z, QOS_SPECS)
    assert not result.ok and "QOS still differ after the write" in result.errors[0]


# ------------------------------------------------------------------------------------------- reconcile template


class MemoryBackend(SacctmgrBackend):
    """sacctmgr backend whose Slurm is a dict; ``lossy`` names are silently not modified."""

    def __init__(self, lossy: set[str] | None = None) -> None:
        super().__init__()
        from tests.slurm.test_slurm_plan import simulate

        self.simulate = simulate
        self.state: dict = {}
        self.lossy = lossy or set()

    def read(self, cluster, names=None):
        self._record_fake("read")
        accounts = dict(self.state.get(cluster, {}))
        return {n: a for n, a in accounts.items() if names is None or n in names}

    def _apply(self, cluster, changes, result):
        self._record_fake("write")
        kept = [c for c in changes if getattr(c, "name", None) not in self.lossy or isinstance(c, AddAccount)]
        self.state = self.simulate(self.state, kept)

    def _record_fake(self, kind):
        from allocations.provisioning.slurm.backends.base import CommandRecord

        self._record(CommandRecord(kind, ("fake", kind), 0, "", "", 0.0))


def test_reconcile_noop_is_exactly_one_read():
    backend = MemoryBackend()
    first = backend.reconcile(Z, [PARENT, acct()])
    assert first.ok and first.reads == 2 and first.writes == 1 and first.changed
    second = backend.reconcile(Z, [PARENT, acct()])
    assert (second.reads, second.writes, second.planned, second.changed) == (1, 0, [], False)


def test_reconcile_read_back_mismatch_is_an_error_listing_differences():
    backend = MemoryBackend(lossy={"proj_a"})
    backend.reconcile(Z, [PARENT, acct()])
    with pytest.raises(SlurmReconcileError) as err:
        backend.reconcile(Z, [PARENT, acct(gpu=1200)])
    result = err.value.result
    assert result.differences == [SetLimits(Z, "proj_a", (("cpu", 6000), ("gres/gpu", 1200)))]
    assert "still differs after read-back: zellik: set GrpTRESMins of proj_a" in str(err.value)
    assert result.reads == 2 and result.writes == 1
    quiet = backend.reconcile(Z, [PARENT, acct(gpu=1200)], raise_on_error=False)
    assert not quiet.ok and quiet.to_dict()["differences"]


def test_reconcile_read_failure_still_returns_commands(fake):
    fake.respond = lambda argv: (1, "", "sacctmgr: error: Problem talking to the database: Connection refused")
    with pytest.raises(SlurmReconcileError) as err:
        SacctmgrBackend().reconcile(Z, [PARENT])
    assert err.value.result.commands[0].returncode == 1
    assert "Connection refused" in err.value.result.errors[0]


def test_drift_reads_once_and_writes_nothing():
    backend = MemoryBackend()
    backend.reconcile(Z, [PARENT, acct()])
    with backend.recording() as journal:
        assert backend.drift(Z, [PARENT, acct(blocked=True)]) == [SetBlocked(Z, "proj_a", True)]
    assert [c.kind for c in journal] == ["read"]


# ------------------------------------------------------------------------------------------- slurmrestd


class FakeResponse:
    def __init__(self, status: int, payload: Any) -> None:
        self.status_code = status
        self.text = json.dumps(payload) if payload is not None else ""

    def json(self):
        return json.loads(self.text)


class FakeSession:
    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.requests: list[dict[str, Any]] = []

    def request(self, method, url, **kwargs):
        path = url.split("/v0.0.38", 1)[1]
        self.requests.append({"method": method, "path": path, **kwargs})
        status, payload = self.routes.get((method, path), (200, {"errors": []}))
        return FakeResponse(status, payload)


@pytest.fixture
def jwt_key(tmp_path):
    key = tmp_path / "jwt_hs256.key"
    key.write_bytes(b"0123456789abcdef0123456789abcdef")
    return key


def rest(session, jwt_key, **kw):
    return SlurmrestdBackend(
        base_url="http://slurm:6820/", user="aifportal", jwt_key_file=str(jwt_key), session=session, **kw
    )


def test_rest_token_is_hs256_with_sun(jwt_key):
    backend = rest(FakeSession({}), jwt_key, token_lifespan=120)
    claims = jwt.decode(backend.token(), jwt_key.read_bytes(), algorithms=["HS256"])
    assert claims["sun"] == "aifportal" and claims["exp"] - claims["iat"] == 120
    assert backend.token() == backend.token()  # cached until close to expiry
    assert SlurmrestdBackend(token="abc", session=FakeSession({})).token() == "abc"
    with pytest.raises(ValueError):
        SlurmrestdBackend()


def test_rest_read_is_one_get_per_cluster_filtered_locally(jwt_key):
    from tests.slurm.test_slurm_parsing import REST_ASSOCS

    session = FakeSession({("GET", "/associations"): (200, REST_ASSOCS)})
    accounts = rest(session, jwt_key).read("charleroi", {"t2_a"})
    assert list(accounts) == ["t2_a"]
    (req,) = session.requests
    assert req["params"] == {"cluster": "charleroi"}
    assert req["headers"]["X-SLURM-USER-NAME"] == "aifportal" and req["headers"]["X-SLURM-USER-TOKEN"]


def test_rest_apply_batches_accounts_users_and_associations(jwt_key):
    from tests.slurm.test_slurm_parsing import REST_ASSOCS

    users = {"users": [{"name": "opsadmin", "administrator_level": "Operator"}, {"name": "bob"}]}
    session = FakeSession({("DELETE", "/association"): (304, None), ("GET", "/users"): (200, users),
                           ("GET", "/associations"): (200, REST_ASSOCS)})
    changes = [
        AddParent(Z, "org_a", "ACME", "acme"),
        AddAccount(Z, "proj_a", "org_a", "P", "acme", 6, 60, True, "aif_sme"),
        SetLimits(Z, "proj_b", (("cpu", 1), ("gres/gpu", 2))),
        SetBlocked(Z, "proj_b", False),
        AddUser(Z, "proj_a", "bob"),
        AddUser(Z, "proj_b", "bob"),
        AddUser(Z, "proj_a", "carol"),
        AddUser(Z, "proj_a", "opsadmin"),
        RemoveUser(Z, "proj_b", "eve"),
        RemoveUser(Z, "proj_b", "mallory"),
        RemoveUser(Z, "proj_c", "eve"),
        RemoveUser(Z, "proj_c", "mallory"),
        RemoveUser(Z, "proj_d", "eve"),
    ]
    result = rest(session, jwt_key).apply(Z, changes)
    assert result.ok, result.errors
    # outside a reconcile (no read to reuse) an update reads the account first: its body carries every
    # setting the portal owns, those the changes leave alone as they are
    assert [(r["method"], r["path"]) for r in session.requests] == [
        ("POST", "/accounts"),
        ("GET", "/associations"),
        ("GET", "/users"),
        ("POST", "/associations"),
        ("POST", "/users"),
        *[("DELETE", "/association")] * 5,
    ]
    assocs = json.loads(session.requests[3]["data"])["associations"]
    # account associations, then the one user with an AdminLevel (POST /users would reset it)
    assert [(a["account"], a["user"]) for a in assocs] == [
        ("org_a", None),
        ("proj_a", None),
        ("proj_b", None),
        ("proj_a", "opsadmin"),
    ]
    assert assocs[1]["max"]["jobs"]["per"]["submitted"] == 0 and assocs[1]["qos"] == ["aif_sme"]
    assert assocs[2]["max"]["tres"]["group"]["minutes"][1] == {"type": "gres", "name": "gpu", "count": 2}
    # every other user association in one POST /users, under its user
    assert json.loads(session.requests[4]["data"])["users"] == [
        {
            "name": "bob",
            "associations": [
                {"account": "proj_a", "cluster": Z, "user": "bob"},
                {"account": "proj_b", "cluster": Z, "user": "bob"},
            ],
        },
        {"name": "carol", "associations": [{"account": "proj_a", "cluster": Z, "user": "carol"}]},
    ]
    # one DELETE per association: 22.05 removes only one of those a comma-separated filter matches
    assert [r["params"] for r in session.requests[5:]] == [
        {"account": account, "cluster": Z, "user": user}
        for account, user in [
            ("proj_b", "eve"),
            ("proj_b", "mallory"),
            ("proj_c", "eve"),
            ("proj_c", "mallory"),
            ("proj_d", "eve"),
        ]
    ]


class RefusingSession(FakeSession):
    """A fake slurmrestd that refuses, as 22.05 does, any batch holding one of ``refused`` (the
    account of an association or the name of a user) and then writes nothing of it."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__({})
        self.refused = refused
        self.written: list[str] = []

    def request(self, method, url, **kwargs):
        response = super().request(method, url, **kwargs)
        if method == "POST" and kwargs.get("data"):
            body = json.loads(kwargs["data"])
            names = [i.get("account") or i.get("name") for i in body.get("associations") or body.get("users") or ()]
            if self.refused & set(names):
                error = {"error_number": -1, "error": "Unspecified error", "source": "slurmdb_associations_add"}
                return FakeResponse(400, {"errors": [error]})
            self.written += names
        return response


def test_rest_a_refused_batch_names_the_refused_change_and_writes_the_rest(jwt_key):
    session = RefusingSession({"proj_3"})
    changes = [AddParent(Z, "org_a", "ACME", "acme")]
    changes += [AddAccount(Z, f"proj_{i}", "org_a", "P", "acme", 6, 60, False) for i in range(8)]
    changes += [AddUser(Z, f"proj_{i}", "bob") for i in range(8)]
    result = rest(session, jwt_key).apply(Z, changes)
    (error,) = result.errors
    assert error == (
        "zellik: add account proj_3 under org_a (gpu 6 min, cpu 60 min): refused by slurmrestd: "
        "HTTP 400: [{'error_number': -1, 'error': 'Unspecified error', 'source': 'slurmdb_associations_add'}]"
    )
    assert sorted(session.written) == sorted(["org_a", *[f"proj_{i}" for i in range(8) if i != 3], "bob"])
    # bob is added to every account but the refused one
    users = json.loads(session.requests[-1]["data"])["users"]
    assert [a["account"] for a in users[0]["associations"]] == [f"proj_{i}" for i in range(8) if i != 3]
    # one batch, then halves down to the refused item: bounded by 2 * log2(9) + 1 posts of associations
    posts = [r for r in session.requests if r["path"] == "/associations"]
    assert len(posts) == 7


def test_rest_a_batch_refused_whole_stops_splitting_after_a_few_refused_items(jwt_key):
    from allocations.provisioning.slurm.backends.slurmrestd import MAX_REFUSED_ITEMS

    accounts = [f"proj_{i}" for i in range(40)]
    session = RefusingSession({"org_a", *accounts})  # e.g. a token whose user lost its rights
    changes = [AddParent(Z, "org_a", "ACME", "acme")]
    changes += [AddAccount(Z, a, "org_a", "P", "acme", 6, 60, False) for a in accounts]
    changes += [AddUser(Z, a, "bob") for a in accounts]
    result = rest(session, jwt_key).apply(Z, changes)
    (error,) = result.errors
    assert error.count(": refused by slurmrestd: HTTP 400") == MAX_REFUSED_ITEMS
    skipped = [int(part.split()[0]) for part in error.split("; ") if "not sent after" in part]
    assert sum(skipped) == 41 - MAX_REFUSED_ITEMS
    assert session.written == []
    # no POST /users (every account was refused); the POSTs of associations stay few
    assert [r["path"] for r in session.requests if r["method"] == "POST"].count("/users") == 0
    assert len([r for r in session.requests if r["path"] == "/associations"]) <= 2 * MAX_REFUSED_ITEMS * 6 + 1


def test_rest_a_refused_deletion_is_named_and_the_others_are_done(jwt_key):
    refusal = {"errors": [{"error_number": 7009, "error": "You can not remove the default account of a user"}]}

    class Session(FakeSession):
        def request(self, method, url, **kwargs):
            response = super().request(method, url, **kwargs)
            if method == "DELETE" and kwargs["params"]["account"] == "proj_a":
                return FakeResponse(500, refusal)
            return response

    session = Session({})
    changes = [RemoveUser(Z, "proj_a", "eve"), RemoveUser(Z, "proj_b", "eve")]
    result = rest(session, jwt_key).apply(Z, changes)
    assert [r["params"]["account"] for r in session.requests] == ["proj_a", "proj_b"]
    (error,) = result.errors
    assert error.startswith("zellik: remove user eve from proj_a: refused by slurmrestd: HTTP 500:")
    assert "default account" in error


def test_rest_update_without_limits_reads_them_first(jwt_key):
    from tests.slurm.test_slurm_parsing import REST_ASSOCS

    session = FakeSession({("GET", "/associations"): (200, REST_ASSOCS)})
    rest(session, jwt_key).apply("charleroi", [SetBlocked("charleroi", "t2_a", False)])
    assert [r["method"] for r in session.requests] == ["GET", "POST"]
    (body,) = json.loads(session.requests[1]["data"])["associations"]
    # the current limits are sent along: 22.05.8 crashes on an update without them
    assert body["max"]["tres"]["group"]["minutes"] == [
        {"type": "cpu", "count": 6000},
        {"type": "gres", "name": "gpu", "count": 700},
    ]
    assert body["max"]["jobs"]["per"]["submitted"] == -1


def test_rest_reconcile_reuses_its_read_and_reports_a_silent_noop(jwt_key):
    from tests.slurm.test_slurm_parsing import REST_ASSOCS

    # the fake slurmrestd accepts the update (200, no error) and changes nothing: 22.05.8's defect
    session = FakeSession({("GET", "/associations"): (200, REST_ASSOCS)})
    desired = [
        DesiredParent("charleroi", "org_t2", "T2", "t2"),
        DesiredAccount("charleroi", "t2_a", "org_t2", "A", "t2", 900, 6000, True, frozenset({"u1"}), "aif_ind"),
    ]
    with pytest.raises(SlurmReconcileError, match="still differs after read-back: charleroi: set GrpTRESMins"):
        rest(session, jwt_key).reconcile("charleroi", desired)
    # read; the parent account and all associations (the update takes the current limits from the
    # reconcile's own read, no second GET); read back
    assert [(r["method"], r["path"]) for r in session.requests] == [
        ("GET", "/associations"),
        ("POST", "/accounts"),
        ("POST", "/associations"),
        ("GET", "/associations"),
    ]


@pytest.mark.parametrize(
    ("status", "payload", "match"),
    [
        (500, {"errors": [{"error_number": 1007, "error": "Protocol authentication error"}]}, "1007"),
        (200, {"errors": [{"error": "Nothing changed"}]}, "Nothing changed"),
        (401, None, "HTTP 401"),
    ],
)
def test_rest_errors(jwt_key, status, payload, match):
    session = FakeSession({("POST", "/users"): (status, payload), ("GET", "/associations"): (status, payload)})
    result = rest(session, jwt_key).apply(Z, [AddUser(Z, "proj_a", "bob")])
    assert not result.ok and match in result.errors[0]
    with pytest.raises(SlurmCommandError, match=match):
        rest(session, jwt_key).read(Z)


def test_rest_usage_and_fallback_go_through_sacctmgr(fake, jwt_key):
    fake.respond = lambda argv: (0, "proj_a||cpu=7,gres/gpu=3\n", "")
    backend = rest(FakeSession({}), jwt_key, sacctmgr={"sshare": "/x/sshare"})
    with backend.recording() as journal:
        assert backend.usage(Z, ["proj_a"]) == {"proj_a": {"gpu_minutes": 3, "cpu_minutes": 7}}
    assert journal[0].argv[0] == "/x/sshare"


# ------------------------------------------------------------------------------------------- job control

# squeue -M zellik -h -A proj_a -t ... -o '%i|%a|%u|%T|%r', as the stack prints it
QUEUE = (
    "21|proj_a|alice|PENDING|Resources\n"
    "22|proj_a|alice|PENDING|JobHeldUser\n"
    "23|proj_a|bob|PENDING|JobHeldAdmin\n"
    "24|proj_a|bob|RUNNING|None\n"
    "25|proj_a|bob|PENDING|AssocGrpGRESMinutes\n"
)


def queue(fake, text=QUEUE, *, command_reply=(0, "", "")):
    def respond(argv):
        if argv[0] == "squeue":
            return 0, text, ""
        return command_reply

    fake.respond = respond


def test_jobs_are_one_squeue_call_per_account_and_cluster(fake):
    queue(fake)
    jobs = SacctmgrBackend().jobs(Z, "proj_a")
    assert fake.calls == [["squeue", "-M", "zellik", "-h", "-A", "proj_a", "-t",
                           "PENDING,RUNNING,CONFIGURING,SUSPENDED,STOPPED,SIGNALING", "-o", "%i|%a|%u|%T|%r"]]
    assert [j.job_id for j in jobs] == ["21", "22", "23", "24", "25"]


def test_hold_takes_the_pending_jobs_nobody_holds(fake):
    queue(fake)
    result = SacctmgrBackend().hold_pending(Z, "proj_a")
    # the owner's own hold (22) and an administrator's earlier hold (23) stay as they are; 24 runs
    assert result.job_ids == ["21", "25"] and result.action == "hold" and not result.intended
    assert fake.calls[-1] == ["scontrol", "-M", "zellik", "hold", "21,25"]
    assert [c.kind for c in result.commands] == ["read", "write"]


def test_release_only_the_portals_own_holds_still_held(fake):
    queue(fake)
    result = SacctmgrBackend().release(Z, "proj_a", ["23", "21", "99"])  # 21 is not held, 99 has ended
    assert result.job_ids == ["23"]
    assert fake.calls[-1] == ["scontrol", "-M", "zellik", "release", "23"]


@pytest.mark.parametrize(("running", "expected"), [(False, ["21", "22", "23", "25"]),
                                                   (True, ["21", "22", "23", "24", "25"])])
def test_cancel_pending_and_by_policy_running(fake, running, expected):
    queue(fake)
    result = SacctmgrBackend().cancel(Z, "proj_a", running=running)
    assert result.job_ids == expected and result.running_ids == (["24"] if running else [])
    assert fake.calls[-1] == ["scancel", "-M", "zellik", *expected]


def test_nothing_to_do_runs_only_the_listing(fake):
    queue(fake, "24|proj_a|bob|RUNNING|None\n")
    backend = SacctmgrBackend()
    assert backend.hold_pending(Z, "proj_a").job_ids == []
    assert backend.cancel(Z, "proj_a", running=False).job_ids == []
    assert [c[0] for c in fake.calls] == ["squeue", "squeue"]


def test_a_job_that_ended_meanwhile_is_not_an_error_anything_else_is(fake):
    # what scontrol prints (rc=1) for a job that finished between squeue and the hold
    gone = "Job has already finished for job 21\nslurm_suspend error: Job has already finished\n"
    queue(fake, command_reply=(1, "", gone))
    assert SacctmgrBackend().hold_pending(Z, "proj_a").job_ids == ["21", "25"]
    denied = "Access/permission denied for job 21\nslurm_suspend error: Access/permission denied\n"
    queue(fake, command_reply=(1, "", denied))
    with pytest.raises(SlurmCommandError, match="permission denied"):
        SacctmgrBackend().hold_pending(Z, "proj_a")


def test_job_ids_and_accounts_are_validated_before_any_command(fake):
    queue(fake, "21;rm -rf /|proj_a|alice|PENDING|Resources\n")
    with pytest.raises(SlurmValueError, match="job id"):
        SacctmgrBackend().hold_pending(Z, "proj_a")
    assert [c[0] for c in fake.calls] == ["squeue"]
    with pytest.raises(SlurmValueError):
        SacctmgrBackend().cancel(Z, "proj_a,root", running=True)


def test_rest_job_control_goes_through_the_command_line(fake, jwt_key):
    """slurmrestd's job endpoints reach only its own cluster: squeue/scontrol -M reach every one."""
    queue(fake)
    session = FakeSession({})
    backend = rest(session, jwt_key, sacctmgr={"squeue": "squeue", "scontrol": "scontrol"})
    with backend.recording() as journal:
        result = backend.hold_pending(Z, "proj_a")
    assert result.job_ids == ["21", "25"] and session.requests == []
    assert [c.argv[0] for c in journal] == ["squeue", "scontrol"]


# ------------------------------------------------------------------------------------------- registry


def test_registry(jwt_key):
    assert {"sacctmgr", "slurmrestd"} <= set(available_backends())
    assert isinstance(get_backend("sacctmgr", slurm_conf="/x"), SacctmgrBackend)
    assert isinstance(get_backend("slurmrestd", token="t"), SlurmrestdBackend)
    register_backend("memory", MemoryBackend)
    try:
        assert isinstance(get_backend("memory"), MemoryBackend)
    finally:
        _REGISTRY.pop("memory")
    with pytest.raises(ValueError, match="unknown Slurm backend"):
        get_backend("nope")


# ------------------------------------------------------------------------ slurmrestd: the order of additions


def test_slurmrestd_adds_associations_in_the_order_that_renumbers_least():
    """slurmdbd 22.05 makes each new association the first child of its parent and renumbers every one to
    its right: the backend adds parents before their children, the children of the leftmost parent first,
    and those of one parent last to first (they then stand in the order planned); a user's associations
    follow the tree from left to right."""
    from allocations.provisioning.slurm.backends.slurmrestd import _tree_order
    from allocations.provisioning.slurm.desired import ActualAccount
    from allocations.provisioning.slurm.plan import AddAccount, AddParent

    z = "zellik"
    # as GET /associations lists them, from left to right: org_a, then its project a1
    actual = {"org_a": ActualAccount(cluster=z, name="org_a", parent="root"),
              "a1": ActualAccount(cluster=z, name="a1", parent="org_a")}
    new_parent = AddParent(z, "org_b", "B", "b")
    b1, b2 = (AddAccount(z, n, "org_b", n, "b", 60, 600, False, None) for n in ("b1", "b2"))
    a2 = AddAccount(z, "a2", "org_a", "a2", "a", 60, 600, False, None)
    ordered, position = _tree_order([new_parent, b1, b2, a2], actual)
    assert [c.name for c in ordered] == ["org_b", "a2", "b2", "b1"]
    # the tree once they are added: org_b (b1, b2) left of org_a (a2, a1)
    assert sorted(["a1", "a2", "b1", "b2", "org_a", "org_b"], key=position) == ["org_b", "b1", "b2", "org_a",
                                                                                 "a2", "a1"]
    # an account neither read nor added (another cluster's, say) sorts last
    assert position("elsewhere") == ((2, 0),)
    # names that would form a cycle (the planner never makes one) end the walk instead of looping
    x, y = AddAccount(z, "x", "y", "x", "x", 1, 1, False, None), AddAccount(z, "y", "x", "y", "y", 1, 1, False, None)
    ordered, position = _tree_order([x, y], {})
    assert sorted(c.name for c in ordered) == ["x", "y"] and position("x") and position("y")
