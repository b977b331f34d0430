"""`scripts/slurm-stack.sh start` on a running stack whose nodes are busy with user jobs still succeeds:
its smoke job waits behind them, counts as scheduled and is cancelled; the user jobs keep running."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import slurm_env, wait_for

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
CLUSTERS = ("zellik", "charleroi")


def run(env, *argv, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, cwd="/tmp")


def state(env, cluster, job_id) -> str:
    out = run(env, "squeue", "-M", cluster, "-h", "-j", job_id, "-o", "%T").stdout
    return next((ln.strip() for ln in out.splitlines() if ln.strip() and not ln.startswith("CLUSTER")), "")


def test_start_succeeds_while_user_jobs_fill_every_node():
    env = slurm_env()
    blockers: dict[str, str] = {}
    try:
        for cluster in CLUSTERS:
            out = run(env, "sbatch", "-M", cluster, "--parsable", "-A", "root", "-J", "aif-busy", "-c", "2",
                      "-t", "5", "-o", "/dev/null", "--wrap", "sleep 300")
            assert out.returncode == 0, out.stderr
            blockers[cluster] = out.stdout.strip().split(";")[0]
        for cluster, job_id in blockers.items():
            wait_for(lambda c=cluster, j=job_id: state(env, c, j) == "RUNNING", timeout=60,
                     what=f"the job filling {cluster}'s node to run")

        started = subprocess.run(["bash", str(REPO / "scripts" / "slurm-stack.sh"), "start"], capture_output=True,
                                 text=True, timeout=300, cwd=REPO)

        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        assert "SLURM READY" in started.stdout
        for cluster in CLUSTERS:
            assert f"on {cluster} pending behind user jobs (node busy)" in started.stdout
        # the stack was not restarted under the user jobs, and the smoke jobs did not stay queued
        assert {cluster: state(env, cluster, job_id) for cluster, job_id in blockers.items()} == dict.fromkeys(
            CLUSTERS, "RUNNING")
        for cluster in CLUSTERS:
            queued = run(env, "squeue", "-M", cluster, "-h", "-n", "aif-smoke", "-o", "%i").stdout
            assert [ln for ln in queued.splitlines() if ln.strip() and not ln.startswith("CLUSTER")] == []
    finally:
        for cluster, job_id in blockers.items():
            run(env, "scancel", "-M", cluster, job_id)


def loopback_routes() -> list[str]:
    out = subprocess.run(["ip", "route", "show", "table", "local"], capture_output=True, text=True, timeout=30)
    return [ln.strip() for ln in out.stdout.splitlines() if ln.startswith("local 127.")]


def test_start_acknowledges_at_once_on_the_loopback_routes():
    """Slurm 22.05 sends a message's length and body in two writes; with delayed ACKs every slurmdbd RPC
    waited 40 ms twice. start sets quickack on the loopback routes, as a site does between its Slurm hosts."""
    route = next(r for r in loopback_routes() if r.startswith("local 127.0.0.0/8"))
    plain = route.replace(" quickack 1", "")
    subprocess.run(["ip", "route", "change", *plain.split(), "table", "local", "quickack", "0"], check=True, timeout=30)
    assert all("quickack 1" not in r for r in loopback_routes() if r.startswith("local 127.0.0.0/8"))

    started = subprocess.run(["bash", str(REPO / "scripts" / "slurm-stack.sh"), "start"], capture_output=True,
                             text=True, timeout=300, cwd=REPO)

    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    routes = loopback_routes()
    assert routes and all(r.endswith("quickack 1") for r in routes), routes
