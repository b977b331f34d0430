"""One provisioning run per Slurm cluster at a time.

A run reads the desired state, reads what Slurm holds, plans, applies, reads back and acts on jobs.
Two runs on the same cluster must not interleave: one planned from a desired state read before a
suspension would undo the block the other one wrote. Every run therefore takes the cluster's lock
first and reads the desired state inside it.

PostgreSQL: a session-level advisory lock per cluster (a 64-bit key derived from the cluster name),
shared by every worker process and host. It is taken with ``pg_try_advisory_lock`` in a loop until a
deadline, so that a run stuck behind a hung one fails (and its task retries) instead of waiting for
ever; a worker that dies releases it with its connection.

SQLite (development, tests, the single-process deployment): a lock per cluster inside the process.
It serialises the threads of one process only, which is all such a deployment runs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connection

from allocations.provisioning.slurm.errors import SlurmError

# What a run waits for the lock before giving up (below the provisioning task's soft time limit).
DEFAULT_WAIT_SECONDS = 200.0
POLL_SECONDS = 0.2

_local_locks: dict[str, threading.RLock] = {}
_local_guard = threading.Lock()


class ClusterBusyError(SlurmError):
    """Another provisioning run held the cluster's lock for longer than this run would wait."""


def lock_key(cluster: str) -> int:
    """A stable signed 64-bit advisory-lock key for a cluster name (the same in every process)."""
    digest = hashlib.blake2b(f"aif-slurm-cluster:{cluster}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _wait_seconds(wait: float | None) -> float:
    if wait is not None:
        return wait
    return float(getattr(settings, "AIF_SLURM_LOCK_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))


@contextmanager
def cluster_lock(cluster: str, *, wait: float | None = None) -> Iterator[None]:
    """Hold the cluster's provisioning lock for the block; raise ClusterBusyError after ``wait`` seconds."""
    deadline = time.monotonic() + _wait_seconds(wait)
    if connection.vendor != "postgresql":
        with _local_lock(cluster, deadline):
            yield
        return
    key = lock_key(cluster)
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                break
        if time.monotonic() >= deadline:
            raise ClusterBusyError(f"{cluster}: another provisioning run holds the cluster; try again later")
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:  # the connection is gone, and the session's locks with it
            pass


@contextmanager
def _local_lock(cluster: str, deadline: float) -> Iterator[None]:
    with _local_guard:
        lock = _local_locks.setdefault(cluster, threading.RLock())
    if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise ClusterBusyError(f"{cluster}: another provisioning run holds the cluster; try again later")
    try:
        yield
    finally:
        lock.release()
