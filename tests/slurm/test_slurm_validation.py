"""Hostile names and values are refused before anything reaches sacctmgr, sshare or slurmrestd."""

from __future__ import annotations

import subprocess
from unittest import mock

import pytest

from allocations.provisioning.slurm import DesiredAccount, DesiredParent, QosSpec, SlurmValueError
from allocations.provisioning.slurm.backends.sacctmgr import SacctmgrBackend
from allocations.provisioning.slurm.backends.slurmrestd import SlurmrestdBackend
from allocations.provisioning.slurm.plan import AddAccount, AddUser, RemoveUser, SetLimits, SetQos
from allocations.provisioning.slurm.validation import (
    sanitize_text,
    validate_account_name,
    validate_cluster_name,
    validate_limits,
    validate_minutes,
    validate_parent_name,
    validate_qos_name,
    validate_text,
    validate_username,
)

HOSTILE_NAMES = [
    "",
    "a;b",
    "a b",
    "a\nb",
    "a=b",
    "a,b",
    "a'b",
    'a"b',
    "a:b",
    "-rf",
    "a/b",
    "a\tb",
    "a\x00b",
    "Proj_ACME",  # sacctmgr would lower-case it into proj_acme: a silent collision
    "ACME",
    "proj-acme; delete account root",
    "x" * 35,
    "1proj",
    "_proj",
    "proj.acme",
    "projé",
    "where",  # fine as a name? no: see test_keywords_are_plain_names below
]


@pytest.mark.parametrize("value", [v for v in HOSTILE_NAMES if v != "where"])
def test_account_names_refused(value):
    with pytest.raises(SlurmValueError):
        validate_account_name(value)


@pytest.mark.parametrize("value", ["a", "proj_acme", "p2024_001", "a" * 34])
def test_account_names_accepted(value):
    assert validate_account_name(value) == value


def test_keywords_are_plain_names():
    # sacctmgr gets name=where as one argv element: a keyword inside a value is harmless
    assert validate_account_name("where") == "where"


def test_root_is_only_a_parent():
    with pytest.raises(SlurmValueError, match="reserved"):
        validate_account_name("root")
    assert validate_parent_name("root") == "root"


def test_uppercase_message_names_the_collision():
    with pytest.raises(SlurmValueError, match="lower-case"):
        validate_account_name("Proj_ACME")


@pytest.mark.parametrize("value", ["zellik", "charleroi", "c-2"])
def test_cluster_names_accepted(value):
    assert validate_cluster_name(value) == value


@pytest.mark.parametrize("value", ["Zellik", "zellik;x", "zellik,charleroi", "", "-z", "z" * 41, None, 3])
def test_cluster_names_refused(value):
    with pytest.raises(SlurmValueError):
        validate_cluster_name(value)


@pytest.mark.parametrize("value", ["alice", "_svc", "a-b_c9", "x" * 32])
def test_usernames_accepted(value):
    assert validate_username(value) == value


@pytest.mark.parametrize(
    "value", ["Alice", "-alice", "al ice", "alice;id", "alice\n", "a=b", "x" * 33, "9lives", "a,b", "", "al.ice"]
)
def test_usernames_refused(value):
    with pytest.raises(SlurmValueError):
        validate_username(value)


@pytest.mark.parametrize("value", ["root", "slurm", "munge", "nobody", "www-data", "systemd-network", "_", "-_", "__"])
def test_reserved_and_nameless_usernames_never_reach_slurm(value):
    with pytest.raises(SlurmValueError):
        validate_username(value)
    with pytest.raises(SlurmValueError):
        _account(users={"alice", value})
    with pytest.raises(SlurmValueError):
        AddUser("zellik", "proj_acme", value)


def test_a_reserved_user_can_still_be_taken_out_of_a_portal_account():
    # An association made before the names were refused must be removable by the plan.
    assert RemoveUser("zellik", "proj_acme", "root").user == "root"
    with pytest.raises(SlurmValueError):
        RemoveUser("zellik", "proj_acme", "root;id")


@pytest.mark.parametrize("value", ["normal", "aif_sme", "aif-industry"])
def test_qos_accepted(value):
    assert validate_qos_name(value) == value


@pytest.mark.parametrize("value", ["Normal", "a b", "a,b", "a;b", "-a", ""])
def test_qos_refused(value):
    with pytest.raises(SlurmValueError):
        validate_qos_name(value)


@pytest.mark.parametrize(
    "value",
    ["ACME SME project", "Universite de Liege (ULiege)", "R&D / AI-4-Health", "v1.2", "a", "mail@acme.eu"],
)
def test_text_accepted(value):
    assert validate_text(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        " leading",
        "trailing ",
        "-leading dash",
        "a;b",
        "a\nb",
        "a\rb",
        "a=b",
        "it's",
        'say "hi"',
        "a:b",
        "a,b",
        "a`id`",
        "$(id)",
        "a|b",
        "Université",
        "x" * 201,
    ],
)
def test_text_refused(value):
    with pytest.raises(SlurmValueError):
        validate_text(value)


def test_organization_is_shorter():
    validate_text("x" * 100, "organization")
    with pytest.raises(SlurmValueError, match="longer than 100"):
        validate_text("x" * 101, "organization")


@pytest.mark.parametrize("value", [-1, 10**12 + 1, True, 1.5, "10", None])
def test_minutes_refused(value):
    with pytest.raises(SlurmValueError):
        validate_minutes(value)


def test_limits_allow_clearing_only_with_minus_one():
    assert validate_limits({"gres/gpu": 5, "cpu": -1}) == (("cpu", -1), ("gres/gpu", 5))
    for bad in ({"cpu": -2}, {"gres/GPU": 1}, {"cpu;x": 1}, {"cpu=1": 1}):
        with pytest.raises(SlurmValueError):
            validate_limits(bad)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Université de Liège", "Universite de Liege"),
        ("ACME; DROP TABLE", "ACME DROP TABLE"),
        ("  --x=y\n'z'  ", "x y z"),
        ("", "n/a"),
        (";;;", "n/a"),
        ("é" * 300, "e" * 200),
    ],
)
def test_sanitize_text_output_always_validates(raw, clean):
    assert sanitize_text(raw) == clean
    validate_text(sanitize_text(raw))


def _account(**overrides):
    values = dict(
        cluster="zellik",
        name="proj_acme",
        parent="org_acme",
        description="ACME project",
        organization="acme",
        gpu_minutes=600,
        cpu_minutes=6000,
        blocked=False,
        users=frozenset({"alice"}),
        qos=None,
    )
    values.update(overrides)
    return DesiredAccount(**values)


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Proj_ACME"},
        {"name": "proj;acme"},
        {"cluster": "zellik charleroi"},
        {"parent": "org acme"},
        {"description": "x\nGrpTRESMins=cpu=-1"},
        {"organization": "acme'"},
        {"users": {"alice", "bob;id"}},
        {"users": "alice"},
        {"qos": "normal,high"},
        {"gpu_minutes": -5},
        {"cpu_minutes": "100"},
        {"blocked": "no"},
    ],
)
def test_desired_account_refuses_hostile_values(overrides):
    with pytest.raises((SlurmValueError, TypeError)):
        _account(**overrides)


def test_desired_account_normalises_users_to_frozenset():
    acct = _account(users=["alice", "bob", "alice"])
    assert acct.users == frozenset({"alice", "bob"})
    assert acct.limits == {"cpu": 6000, "gres/gpu": 600}


def test_desired_parent_and_qos_spec_validate():
    with pytest.raises(SlurmValueError):
        DesiredParent("zellik", "org;x", "d", "o")
    with pytest.raises(SlurmValueError):
        QosSpec("aif_sme", "SME", {"gres/gpu;x": 1})


def test_changes_validate_on_construction():
    with pytest.raises(SlurmValueError):
        AddUser("zellik", "proj_acme", "eve\nroot")
    with pytest.raises(SlurmValueError):
        RemoveUser("zellik", "proj acme", "eve")
    with pytest.raises(SlurmValueError):
        SetLimits("zellik", "proj_acme", (("cpu", -7),))
    with pytest.raises(SlurmValueError):
        SetQos("zellik", "proj_acme", "a b")
    with pytest.raises(SlurmValueError):
        AddAccount("zellik", "proj_acme", "root", "x", "y;z", 1, 1, False)


# --------------------------------------------------------------------------- nothing reaches a subprocess


@pytest.fixture
def no_subprocess():
    with mock.patch.object(subprocess, "run", side_effect=AssertionError("subprocess.run must not be called")) as run:
        yield run
    assert not run.called


@pytest.fixture
def no_http():
    session = mock.Mock()
    session.request.side_effect = AssertionError("no HTTP request expected")
    return session


@pytest.mark.parametrize("cluster", ["zellik;id", "Zellik", "zellik\n", "-M"])
def test_sacctmgr_backend_refuses_before_running(no_subprocess, cluster):
    backend = SacctmgrBackend()
    for call in (
        lambda: backend.read(cluster),
        lambda: backend.usage(cluster, ["proj_acme"]),
        lambda: backend.reconcile(cluster, []),
        lambda: backend.apply(cluster, []),
        lambda: backend.bootstrap(cluster, []),
    ):
        with pytest.raises(SlurmValueError):
            call()


@pytest.mark.parametrize("name", ["proj;id", "Proj_ACME", "a b", "a,b", "-i"])
def test_sacctmgr_backend_refuses_hostile_account_lists(no_subprocess, name):
    backend = SacctmgrBackend()
    with pytest.raises(SlurmValueError):
        backend.read("zellik", {"proj_ok", name})
    with pytest.raises(SlurmValueError):
        backend.usage("zellik", ["proj_ok", name])


def test_apply_refuses_changes_for_another_cluster(no_subprocess):
    with pytest.raises(SlurmValueError):
        SacctmgrBackend().apply("zellik", [AddUser("charleroi", "proj_acme", "alice")])


def test_reconcile_refuses_desired_for_another_cluster(no_subprocess):
    with pytest.raises(SlurmValueError):
        SacctmgrBackend().reconcile("charleroi", [_account()])


def test_rest_backend_refuses_before_any_request(no_http, tmp_path):
    key = tmp_path / "jwt.key"
    key.write_bytes(b"k" * 32)
    backend = SlurmrestdBackend(jwt_key_file=str(key), session=no_http)
    with pytest.raises(SlurmValueError):
        backend.read("zellik&cluster=charleroi")
    with pytest.raises(SlurmValueError):
        backend.read("zellik", {"a&user=root"})
    with pytest.raises(SlurmValueError):
        backend.apply("zellik;x", [])
    assert not no_http.request.called
