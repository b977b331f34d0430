"""Fixtures for the `slurm` integration tests: the stack of scripts/slurm-stack.sh, unique names, cleanup.

Start the stack first (as root): `scripts/slurm-stack.sh start`. Without it these tests skip
loudly, or fail when AIF_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from allocations.provisioning.slurm.backends.sacctmgr import SacctmgrBackend
from allocations.provisioning.slurm.backends.slurmrestd import SlurmrestdBackend
from tests.conftest import require_service

CLUSTERS = ("zellik", "charleroi")
TEST_USER = "aiftest1"


def _env_file() -> Path:
    return Path(os.environ.get("AIF_SLURM_DIR", "/tmp/aif-slurm")) / "env.sh"


def _read_env_sh(path: Path) -> dict[str, str]:
    """The `export K=V` lines of env.sh (no shell involved)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export ") :].partition("=")
            env[key.strip()] = " ".join(shlex.split(value))
    return env


@pytest.fixture(scope="session")
def slurm_env() -> dict[str, str]:
    """os.environ plus the stack's client environment; skips/fails when the stack is not up."""
    hint = "start it with: sudo scripts/slurm-stack.sh start"
    extra = _read_env_sh(_env_file()) if _env_file().exists() else {}
    if "SLURM_CONF" not in extra and os.environ.get("SLURM_CONF"):
        extra["SLURM_CONF"] = os.environ["SLURM_CONF"]
    if not extra.get("SLURM_CONF"):
        require_service("slurm", f"no {_env_file()} and no SLURM_CONF; {hint}")
    if shutil.which("sacctmgr") is None:
        require_service("slurm", f"sacctmgr is not installed; {hint}")
    if os.geteuid() != 0:
        require_service("slurm", "the Slurm integration tests run as root (useradd, runuser, the JWT key)")
    env = {**os.environ, **extra}
    try:
        out = subprocess.run(
            ["sacctmgr", "-n", "-P", "show", "cluster", "format=cluster"],
            env=env, capture_output=True, text=True, timeout=15, check=True,
        ).stdout  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        require_service("slurm", f"sacctmgr does not answer ({exc}); {hint}")
    missing = set(CLUSTERS) - set(out.split())
    if missing:
        require_service("slurm", f"clusters {sorted(missing)} are not registered; {hint}")
    return env


def run(env: dict[str, str], *argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=check, cwd="/tmp")


def assoc_rows(env: dict[str, str], accounts: set[str] | list[str]) -> set[tuple[str, ...]]:
    """(cluster, account, user, parent, grptresmins, grpsubmit) as sacctmgr itself shows them."""
    out = run(
        env, "sacctmgr", "-n", "-P", "show", "assoc", "where", "account=" + ",".join(sorted(accounts)),
        "format=cluster,account,user,parentname,grptresmins,grpsubmit",
    ).stdout  # fmt: skip
    return {tuple(line.split("|")) for line in out.splitlines() if line}


class Names:
    """Unique account/user names for one test, deleted from Slurm afterwards."""

    def __init__(self) -> None:
        self.suffix = uuid.uuid4().hex[:8]
        self.accounts: list[str] = []
        self.parents: list[str] = []
        self.users: list[str] = []

    def account(self, label: str) -> str:
        self.accounts.append(name := f"t{self.suffix}_{label}")
        return name

    def parent(self, label: str = "org") -> str:
        self.parents.append(name := f"t{self.suffix}_{label}")
        return name

    def user(self, label: str) -> str:
        self.users.append(name := f"u{self.suffix}{label}")
        return name

    def cleanup(self, env: dict[str, str]) -> None:
        every = self.accounts + self.parents
        if not every:
            return
        for cluster in CLUSTERS:
            for account in every:
                run(env, "scancel", "-M", cluster, "-A", account, check=False)
        if self.users:  # unique to this test: remove them with all their associations
            run(env, "sacctmgr", "-i", "delete", "user", "where", "name=" + ",".join(self.users), check=False)
        # shared users (aiftest1, the operator): only their associations with these accounts
        out = run(env, "sacctmgr", "-n", "-P", "show", "assoc", "where", "account=" + ",".join(every), "format=user")
        shared = sorted({u for u in out.stdout.split() if u})
        if shared:
            run(env, "sacctmgr", "-i", "delete", "user", "where", "name=" + ",".join(shared),
                "account=" + ",".join(every), check=False)  # fmt: skip
        for group in (self.accounts, self.parents):  # children before parents
            if group:
                run(env, "sacctmgr", "-i", "delete", "account", "where", "name=" + ",".join(group), check=False)


@pytest.fixture
def names(slurm_env) -> Iterator[Names]:
    n = Names()
    yield n
    n.cleanup(slurm_env)


@pytest.fixture
def sacctmgr_backend(slurm_env) -> SacctmgrBackend:
    return SacctmgrBackend(slurm_conf=slurm_env["SLURM_CONF"], timeout=60)


@pytest.fixture
def rest_backend(slurm_env) -> SlurmrestdBackend:
    url = slurm_env.get("AIF_SLURMRESTD_URL", "http://127.0.0.1:6820")
    backend = SlurmrestdBackend(
        base_url=url,
        user=slurm_env.get("AIF_SLURM_OPERATOR", "root"),
        jwt_key_file=slurm_env.get("AIF_SLURM_JWT_KEY"),
        sacctmgr={"slurm_conf": slurm_env["SLURM_CONF"]},
        fallback_to_sacctmgr=True,  # the documented fallback for 22.05's silent no-op updates
    )
    try:
        backend.read("zellik", set())
        backend._request("read", "GET", "/clusters")
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        require_service("slurmrestd", f"{url} does not answer ({exc}); start it with scripts/slurm-stack.sh start")
    return backend


@pytest.fixture(params=["sacctmgr", "rest"])
def backend(request):
    """Each provisioning test runs against both backends."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture(scope="session")
def linux_user(slurm_env) -> Iterator[str]:
    """An ordinary Linux user (created here if missing, removed afterwards if we created it)."""
    created = run(slurm_env, "id", TEST_USER, check=False).returncode != 0
    if created:
        run(slurm_env, "useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", TEST_USER)
    yield TEST_USER
    if created:
        run(slurm_env, "userdel", TEST_USER, check=False)
