"""Plumbing shared by the fault drills: a private PostgreSQL cluster, a private redis-server, a real
Celery worker, waiting with deadlines, and the result lines every drill prints.

Everything listens on 127.0.0.1 only, on ports of its own; the shared services on 5432 (PostgreSQL)
and 6379 (Redis) are never touched (the helpers refuse those ports)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRILL_DIR = Path(os.environ.get("AIF_DRILL_DIR", "/tmp/aif-drills"))
PG_PORT = int(os.environ.get("AIF_DRILL_PG_PORT", "55433"))
REDIS_PORT = int(os.environ.get("AIF_DRILL_REDIS_PORT", "6390"))
PG_BIN = Path(os.environ.get("AIF_DRILL_PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = ROOT / ".venv" / "bin" / "python"
CELERY = ROOT / ".venv" / "bin" / "celery"
TEMPLATE_DB = "aif_drill_tpl"
SHARED_PORTS = {5432, 6379}

if PG_PORT in SHARED_PORTS or REDIS_PORT in SHARED_PORTS:
    sys.exit(f"refusing to run drills on a shared port ({PG_PORT}, {REDIS_PORT})")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll until predicate() is truthy; return its value, or raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def run(cmd: list[str], *, timeout: float = 60, check: bool = True, user: str | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess:
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> rc={out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out


# --- PostgreSQL ---------------------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL 15 cluster of its own in $AIF_DRILL_DIR/pg, on 127.0.0.1:$AIF_DRILL_PG_PORT."""

    def __init__(self, port: int = PG_PORT):
        self.port = port
        self.base = DRILL_DIR / "pg"
        self.data = self.base / "data"
        self.logfile = self.base / "postgres.log"

    def _pg_ctl(self, *args, timeout: float = 90, check: bool = True):
        return run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args], timeout=timeout, check=check,
                   user="postgres")

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def is_ready(self) -> bool:
        out = run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "2"], check=False)
        return out.returncode == 0

    def ensure_running(self) -> None:
        DRILL_DIR.mkdir(parents=True, exist_ok=True)
        os.chmod(DRILL_DIR, 0o755)
        if not (self.data / "PG_VERSION").exists():
            self.base.mkdir(parents=True, exist_ok=True)
            shutil.chown(self.base, "postgres", "postgres")
            log(f"initdb {self.data}")
            run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale", "C.UTF-8"], user="postgres", timeout=120)
        if not self.is_ready():
            self.start()

    def start(self) -> None:
        self._pg_ctl("-l", str(self.logfile), "-w", "-t", "60", "-o",
                     f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c max_connections=60",
                     "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop", check=False)

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                   "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=120)
        return out.stdout.strip()

    def _migrations_hash(self) -> str:
        files = sorted(p.relative_to(ROOT).as_posix() + ":" + hashlib.sha256(p.read_bytes()).hexdigest()
                       for p in ROOT.glob("*/migrations/0*.py"))
        return hashlib.sha256("\n".join(files).encode()).hexdigest()

    def ensure_template(self) -> None:
        """One migrated database; each drill copies it (CREATE DATABASE ... TEMPLATE), which takes a second."""
        marker = self.base / "template.hash"
        wanted = self._migrations_hash()
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE_DB}'") == "1"
        if exists and marker.exists() and marker.read_text() == wanted:
            return
        log("migrating the template database (once per set of migrations)")
        self.psql(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        self.psql(f"CREATE DATABASE {TEMPLATE_DB}")
        env = portal_env(database_url=self.url(TEMPLATE_DB), broker_url="memory://")
        run([str(PYTHON), "manage.py", "migrate", "--noinput"], env=env, timeout=900)
        run([str(PYTHON), "manage.py", "setup_roles"], env=env, timeout=300)
        marker.write_text(wanted)

    def fresh_db(self, name: str) -> str:
        self.ensure_running()
        self.ensure_template()
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
        return self.url(name)


# --- Redis --------------------------------------------------------------------------------------------

PERSISTENCE = {
    # no snapshot, no append-only file: a restart starts empty
    "none": ["--save", "", "--appendonly", "no"],
    # append-only file, fsync every second (the Redis default once AOF is on)
    "aof": ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
    # Debian's packaged default: RDB snapshots (3600 s/1 change, 300 s/100, 60 s/10000), no AOF
    "rdb": ["--save", "3600 1 300 100 60 10000", "--appendonly", "no"],
}


class PrivateRedis:
    def __init__(self, persistence: str = "none", port: int = REDIS_PORT):
        self.persistence = persistence
        self.port = port
        self.dir = DRILL_DIR / f"redis-{persistence}"
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=0, socket_timeout=5)

    def fresh(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)

    def start(self) -> None:
        if self._ping():
            raise RuntimeError(f"something already answers on 127.0.0.1:{self.port}")
        logf = open(self.dir / "redis.log", "a")  # noqa: SIM115 - kept by the process
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--daemonize", "no", "--protected-mode", "yes", *PERSISTENCE[self.persistence]],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        (self.dir / "redis.pid").write_text(str(self.proc.pid))
        wait_for(self._ping, 30, "redis-server to answer")

    def _ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def queue_lengths(self) -> dict[str, int]:
        c = self.client()
        out = {q: c.llen(q) for q in ("default", "slurm", "reports")}
        out["unacked"] = c.hlen("unacked")
        return out


# --- the portal's processes --------------------------------------------------------------------------


def var_dir(drill: str, fresh: bool = False) -> Path:
    """AIF_VAR_DIR of one drill (broker folder, private media: the generated reports)."""
    path = DRILL_DIR / f"var-{drill}"
    if fresh:
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def portal_env(*, database_url: str, broker_url: str, drill: str = "template", **extra) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url, "DJANGO_SETTINGS_MODULE": "portal.settings",
        "AIF_VAR_DIR": str(var_dir(drill)), "PYTHONUNBUFFERED": "1", "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0", "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def django_setup(env: dict[str, str]) -> None:
    """Configure this process like a portal process with `env`, then set Django up."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class Worker:
    """`celery -A portal worker` as production runs it (prefork), in its own process group."""

    def __init__(self, env: dict[str, str], name: str, concurrency: int = 1, queues: str = "default,slurm,reports"):
        self.env = env
        self.name = name
        self.concurrency = concurrency
        self.queues = queues
        self.logfile = DRILL_DIR / "logs" / f"worker-{name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, wait: bool = True) -> float:
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self.starts += 1
        logf = open(self.logfile, "w" if self.starts == 1 else "a")  # noqa: SIM115 - kept by the process
        logf.write(f"\n===== start {self.starts} =====\n")
        logf.flush()
        self.proc = subprocess.Popen(
            [str(CELERY), "-A", "portal", "worker", "-n", f"drill-{self.name}-{self.starts}@%h", "--pool", "prefork",
             "--concurrency", str(self.concurrency), "-Q", self.queues, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        if wait:
            marker = f"===== start {self.starts} ====="
            wait_for(lambda: " ready." in self.log().split(marker)[-1], 120, "the worker to be ready")
        return time.monotonic() - started

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def children(self) -> list[int]:
        if self.proc is None:
            return []
        out = run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], check=False)
        return [int(x) for x in out.stdout.split()]

    def kill_child(self) -> int:
        """SIGKILL the pool process running the task (what the kernel's OOM killer does)."""
        pid = self.children()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_all(self) -> None:
        """SIGKILL the whole worker, main process and pool (a machine or container lost)."""
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


# --- results ------------------------------------------------------------------------------------------


class Results:
    """Numbers of one drill run: printed as they come, and at the end as one block and a JSON file."""

    def __init__(self, drill: str):
        self.drill = drill
        self.rows: list[tuple[str, object]] = []
        self.started = time.monotonic()

    def add(self, label: str, value) -> None:
        self.rows.append((label, value))
        log(f"{label}: {value}")

    def finish(self, *, lost: int, duplicated: int, notes: list[str] | None = None) -> int:
        self.add("drill duration (s)", round(time.monotonic() - self.started, 1))
        print(f"\n===== {self.drill} =====")
        for label, value in self.rows:
            print(f"  {label:<62} {value}")
        for note in notes or []:
            print(f"  note: {note}")
        verdict = "PASS" if lost == 0 and duplicated == 0 else "FAIL"
        print(f"  VERDICT {verdict}: lost={lost} duplicated={duplicated}\n", flush=True)
        out = DRILL_DIR / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{self.drill}.json").write_text(json.dumps(
            {"drill": self.drill, "rows": self.rows, "lost": lost, "duplicated": duplicated, "notes": notes or []},
            indent=1, default=str))
        return 0 if verdict == "PASS" else 1
