"""Benchmark: converge N allocations over two clusters, then a no-op reconcile, beside a plain loop.

    source /tmp/aif-slurm/env.sh   # scripts/slurm-stack.sh start
    .venv/bin/python bench/slurm_converge.py [-n 1000] [--loop-n N] [--backend sacctmgr|slurmrestd] [--commands]

Prints numbers only. The plain loop is what a naive implementation does: one `sacctmgr add account`
and one `sacctmgr add user` per allocation. Everything created is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allocations.provisioning.slurm import DesiredAccount, DesiredParent, get_backend

CLUSTERS = ("zellik", "charleroi")
ORGS_PER_CLUSTER = 20
USERS = 100


def counting(call: Callable[[], Any]) -> tuple[Any, float, int]:
    """Run ``call``; return its value, the wall time and how many sacctmgr processes it started."""
    real = subprocess.run
    count = 0

    def spy(argv, *args, **kwargs):
        nonlocal count
        if any(str(a).endswith("sacctmgr") for a in argv[:5]):
            count += 1
        return real(argv, *args, **kwargs)

    started = time.monotonic()
    with mock.patch("allocations.provisioning.slurm.backends.sacctmgr.subprocess.run", spy):
        value = call()
    return value, time.monotonic() - started, count


def desired_state(prefix: str, n: int) -> dict[str, list]:
    state: dict[str, list] = {c: [] for c in CLUSTERS}
    for c in CLUSTERS:
        state[c] += [DesiredParent(c, f"{prefix}o{j}", f"Bench org {j}", "bench") for j in range(ORGS_PER_CLUSTER)]
    for i in range(n):
        cluster = CLUSTERS[i % 2]
        state[cluster].append(
            DesiredAccount(
                cluster, f"{prefix}a{i}", f"{prefix}o{i % ORGS_PER_CLUSTER}", f"Bench allocation {i}", "bench",
                600 + i, 6000 + i, i % 10 == 0, frozenset({f"{prefix}u{i % USERS}"}), None,
            )
        )  # fmt: skip
    return state


def sacctmgr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sacctmgr", *args], env=env, capture_output=True, text=True, timeout=600, check=False)


def plain_loop(env: dict[str, str], prefix: str, n: int) -> tuple[float, int, int]:
    """The equivalent individual commands: parents, then add account + add user per allocation."""
    calls = failed = 0

    def call(*args: str) -> None:
        nonlocal calls, failed
        calls += 1
        failed += sacctmgr(env, "-i", *args).returncode != 0

    started = time.monotonic()
    for c in CLUSTERS:
        for j in range(ORGS_PER_CLUSTER):
            call("add", "account", f"{prefix}o{j}", f"cluster={c}", "description=bench", "organization=bench")
    for i in range(n):
        c = CLUSTERS[i % 2]
        block = ["GrpSubmitJobs=0"] if i % 10 == 0 else []
        call(
            "add", "account", f"{prefix}a{i}", f"cluster={c}", f"parent={prefix}o{i % ORGS_PER_CLUSTER}",
            f"description=Bench allocation {i}", "organization=bench", f"GrpTRESMins=cpu={6000 + i},gres/gpu={600 + i}",
            *block,
        )  # fmt: skip
        call("add", "user", f"{prefix}u{i % USERS}", f"account={prefix}a{i}", f"cluster={c}")
    return time.monotonic() - started, calls, failed


def cleanup(env: dict[str, str], prefix: str, n: int) -> None:
    users = [f"{prefix}u{k}" for k in range(USERS)]
    accounts = [f"{prefix}a{i}" for i in range(n)]
    orgs = [f"{prefix}o{j}" for j in range(ORGS_PER_CLUSTER)]
    commands = [["delete", "user", "where", "name=" + ",".join(users)]]
    commands += [["delete", "account", "where", "name=" + ",".join(accounts[s : s + 500])] for s in range(0, n, 500)]
    commands += [["delete", "account", "where", "name=" + ",".join(orgs)]]
    for args in commands:
        done = sacctmgr(env, "-i", *args)
        if done.returncode != 0 and "Nothing deleted" not in done.stdout:
            print(f"cleanup failed ({prefix}*): {(done.stdout + done.stderr).strip()[-300:]}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="allocations (half on each cluster)")
    parser.add_argument(
        "--loop-n", type=int, default=None, help="allocations for the plain loop (default: n; 0 = skip)"
    )
    parser.add_argument("--backend", default="sacctmgr", choices=["sacctmgr", "slurmrestd"])
    parser.add_argument("--commands", action="store_true", help="print every command or request with its time")
    args = parser.parse_args()
    env = dict(os.environ)
    if "SLURM_CONF" not in env:
        sys.exit("SLURM_CONF is not set: source $AIF_SLURM_DIR/env.sh (scripts/slurm-stack.sh start)")
    options: dict[str, Any] = {"slurm_conf": env["SLURM_CONF"], "timeout": 600}
    if args.backend == "slurmrestd":
        options = {
            "base_url": env.get("AIF_SLURMRESTD_URL", "http://127.0.0.1:6820"),
            "user": env.get("AIF_SLURM_OPERATOR", "root"),
            "jwt_key_file": env.get("AIF_SLURM_JWT_KEY"),
            "sacctmgr": options,
            "fallback_to_sacctmgr": True,
            "timeout": 600,
        }
    backend = get_backend(args.backend, **options)
    run_id = uuid.uuid4().hex[:5]
    prefix, loop_prefix = f"b{run_id}", f"l{run_id}"
    loop_n = args.n if args.loop_n is None else args.loop_n
    state = desired_state(prefix, args.n)
    print(f"backend={args.backend} n={args.n} clusters={','.join(CLUSTERS)} "
          f"parents/cluster={ORGS_PER_CLUSTER} users={USERS} (1 user association per allocation)")  # fmt: skip
    try:
        for label in ("converge from empty", "no-op reconcile"):
            total_t = 0.0
            total_calls = 0
            for cluster in CLUSTERS:
                result, seconds, calls = counting(lambda c=cluster: backend.reconcile(c, state[c]))
                total_t += seconds
                total_calls += calls
                print(f"  {label:20s} {cluster:9s} {seconds:7.2f} s  sacctmgr calls={calls:3d}  "
                      f"reads={result.reads} writes={result.writes} planned={len(result.planned)}")  # fmt: skip
                if args.commands:
                    for rec in result.commands:
                        what = " ".join(str(a) for a in rec.argv[:2]).split("?")[0]
                        size = len(rec.input or "")
                        print(f"      {rec.kind:5s} {rec.duration_s:7.2f} s  {size:7d} bytes in  {what}")
            print(f"{label:22s} total {total_t:7.2f} s  sacctmgr calls={total_calls}")
        if loop_n:
            loop_t, loop_calls, loop_failed = plain_loop(env, loop_prefix, loop_n)
            scale = args.n / loop_n
            extrapolated = f"  (x{scale:.1f} for n={args.n}: ~{loop_t * scale:.0f} s)" if loop_n != args.n else ""
            print(f"plain loop ({loop_n} allocations) {loop_t:7.2f} s  sacctmgr calls={loop_calls}{extrapolated}")
            if loop_failed:
                print(f"WARNING: {loop_failed} plain-loop commands failed: the loop time is not comparable")
    finally:
        started = time.monotonic()
        cleanup(env, prefix, args.n)
        if loop_n:
            cleanup(env, loop_prefix, loop_n)
        print(f"cleanup {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
