"""Fixtures and plumbing for the real-service integration tests: the Slurm stack, a Celery worker process, waiting."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import require_service

SLURM_DIR = Path(os.environ.get("AIF_SLURM_DIR", "/tmp/aif-slurm"))
ROOT = Path(__file__).resolve().parents[2]


def slurm_env() -> dict[str, str]:
    conf = os.environ.get("SLURM_CONF") or str(SLURM_DIR / "etc" / "slurm.conf")
    if not Path(conf).exists() or shutil.which("sacctmgr") is None:
        require_service("slurm", f"no Slurm stack ({conf}); start it with: bash scripts/slurm-stack.sh start")
    env = dict(os.environ, SLURM_CONF=conf)
    probe = subprocess.run(["sacctmgr", "-n", "-P", "show", "cluster", "format=cluster"], env=env,
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0 or "zellik" not in probe.stdout:
        require_service("slurm", f"sacctmgr does not answer: {probe.stderr.strip()}")
    return env


def sacctmgr(env, *args) -> str:
    out = subprocess.run(["sacctmgr", "-n", "-P", *args], env=env, capture_output=True, text=True, timeout=60)
    return out.stdout


def wait_for(predicate, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Worker:
    """A real Celery worker process on Redis, against the test's PostgreSQL database."""

    def __init__(self, env: dict[str, str], broker: str):
        db = connection.settings_dict
        db_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        self.env = dict(env, DJANGO_SETTINGS_MODULE="portal.settings_test", DATABASE_URL=db_url,
                        CELERY_BROKER_URL=broker, CELERY_TASK_ALWAYS_EAGER="0", AIF_SLURM_BACKEND="sacctmgr",
                        AIF_SLURM_CONF=env["SLURM_CONF"], PYTHONUNBUFFERED="1")
        self.proc: subprocess.Popen | None = None
        (ROOT / "var").mkdir(exist_ok=True)
        self.log_path = ROOT / "var" / f"worker-{uuid.uuid4().hex[:6]}.log"

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo",
                                      "-Q", "default,slurm,reports", "--loglevel", "INFO"],
                                     cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def worker(postgres_transactional, redis_server, settings, monkeypatch):
    """Start a worker; the test process publishes to the same Redis database."""
    env = slurm_env()
    from portal.celery import app
    from tests.factories import ensure_reference_data

    ensure_reference_data()

    broker = redis_server.rsplit("/", 1)[0] + "/7"
    subprocess.run(["redis-cli", "-u", broker, "flushdb"], capture_output=True, timeout=10)
    proc = Worker(env, broker)
    proc.start()
    old = (app.conf.broker_url, app.conf.task_always_eager)
    # Celery's broker_url reads the CELERY_BROKER_URL environment variable before its own setting.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    app.conf.broker_url = broker
    app.conf.task_always_eager = False
    settings.AIF_SLURM_BACKEND = "sacctmgr"
    settings.AIF_SLURM_CONF = env["SLURM_CONF"]
    reset_pools(app)
    try:
        yield {"env": env, "proc": proc}
    finally:
        proc.stop()
        app.conf.broker_url, app.conf.task_always_eager = old
        app.pool.force_close_all()
    app._pool = None


def reset_pools(app) -> None:
    """Drop cached broker connections so the next publish uses the current broker_url.

    kombu keeps process-wide pools keyed by connection; an earlier test may have closed one of
    them (health checks against a dead broker do), so start from empty registries."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def linux_user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], check=True, timeout=30)
    return name


