#!/usr/bin/env python3
"""Fault drills on real processes, loopback only: each prints its measured numbers and a verdict line
`VERDICT PASS|FAIL: lost=N duplicated=N`, and writes them to $AIF_DRILL_DIR/results/<drill>.json.

    .venv/bin/python bench/drills/faults.py redis --persistence none     # 1. Redis restarted, tasks queued
    .venv/bin/python bench/drills/faults.py redis --persistence aof
    .venv/bin/python bench/drills/faults.py worker-kill                  # 2. worker SIGKILL mid-provisioning
    .venv/bin/python bench/drills/faults.py postgres                     # 3. PostgreSQL restarted mid-burst
    .venv/bin/python bench/drills/faults.py slurmdbd                     # 4. slurmdbd stopped during approvals
    .venv/bin/python bench/drills/faults.py report                       # 5. report generation interrupted
    .venv/bin/python bench/drills/faults.py stop                         # stop the private PostgreSQL

Private services: PostgreSQL 15 on 127.0.0.1:55433 (data in /tmp/aif-drills/pg, started once and kept
for the next drill until `stop`), redis-server on 127.0.0.1:6390 (started and stopped by each drill).
Each drill runs in a fresh database copied from a migrated template. Drills 2 and 4 need the Slurm
stack (bash scripts/slurm-stack.sh start); never run them beside tests/integration or tests/slurm."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PYTHON,
    ROOT,
    PrivatePostgres,
    PrivateRedis,
    Results,
    Worker,
    django_setup,
    log,
    portal_env,
    run,
    var_dir,
    wait_for,
)

# --- helpers that need Django (called after django_setup) -------------------------------------------


def quiescent(redis: PrivateRedis, snapshot, timeout: float, still: float = 6.0) -> float:
    """Wait until the broker holds nothing and snapshot() has not changed for `still` seconds."""
    started = time.monotonic()
    last, since = None, time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        lengths = redis.queue_lengths()
        current = (tuple(sorted(lengths.items())), snapshot())
        if current != last:
            last, since = current, time.monotonic()
        elif sum(lengths.values()) == 0 and time.monotonic() - since >= still:
            return time.monotonic() - started - still
        time.sleep(0.5)
    log(f"not quiescent after {timeout:.0f}s: {redis.queue_lengths()}")
    return -1.0


def audit_counts(action: str, object_ids: list, object_type: str) -> dict[str, int]:
    from django.db.models import Count

    from portal.models import AuditEvent

    rows = (AuditEvent.objects.filter(action=action, object_type=object_type,
                                      object_id__in=[str(i) for i in object_ids])
            .values("object_id").annotate(n=Count("id")))
    return {r["object_id"]: r["n"] for r in rows}


def verify_chain_cli(env) -> str:
    out = run([str(PYTHON), "manage.py", "verify_audit_chain"], env=env, check=False, timeout=300)
    text = (out.stdout + out.stderr).strip()
    return text.splitlines()[-1] if text else f"rc={out.returncode}"


def mails_in_log(text: str, prefix: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith(f"Subject: {prefix}"):
            subject = line[len("Subject: "):].strip()
            counts[subject] = counts.get(subject, 0) + 1
    return counts


def report_files(report_id: int) -> list[str]:
    """Every file of one report in the reports folder, temporary ones (".report-...tmp") included."""
    from compliance.reports.services import report_dir

    directory = report_dir()
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name.lstrip(".").startswith(f"report-{report_id}-"))


# --- 1. Redis restarted while tasks are queued -------------------------------------------------------


def drill_redis(args) -> int:
    res = Results(f"redis-{args.persistence}-{args.signal}")
    pg = PrivatePostgres()
    db_url = pg.fresh_db(f"drill_redis_{args.persistence}")
    redis = PrivateRedis(args.persistence)
    redis.fresh()
    redis.start()
    var_dir(res.drill, fresh=True)
    env = portal_env(database_url=db_url, broker_url=redis.url(0), drill=res.drill, AIF_SLURM_BACKEND="record")
    django_setup(env)
    import datetime

    from django.utils import timezone

    from allocations.grants.models import Allocation, SyncState
    from compliance.models import Report, ReportStatus
    from compliance.reports.services import report_request_period
    from portal.emails import outbox_add
    from portal.models import OutgoingEmail
    from tests.factories import EthicsOfficerFactory, approved_allocation

    worker = Worker(env, f"redis-{args.persistence}", concurrency=2)
    try:
        n = args.n
        log(f"no worker running: approving {n} allocations, requesting {args.reports} reports, queueing {n} mails")
        alloc_ids = [approved_allocation(gpu=10 + i, cpu=100, users=())[0].pk for i in range(n)]
        officer = EthicsOfficerFactory()
        today = timezone.localdate()
        report_ids = [report_request_period(actor=officer, date_from=today - datetime.timedelta(days=30 + i),
                                            date_to=today, language="en").pk for i in range(args.reports)]
        tag = f"drill-mail-{int(time.time())}-"
        for i in range(n):  # through the product's path: stored in the outbox, then queued (autocommit)
            outbox_add(subject=f"{tag}{i}", body="drill", to=[f"user{i}@example.org"])
        before = redis.queue_lengths()
        res.add("queued before the restart (slurm/reports/default lists)", before)
        time.sleep(2)  # longer than appendfsync everysec
        sig = signal.SIGKILL if args.signal == "kill" else signal.SIGTERM
        t0 = time.monotonic()
        redis.stop(sig)
        # Users keep working while Redis is down: approvals and report requests commit; their tasks
        # cannot be queued (the sweepers pick them up), their e-mails wait in the outbox.
        import logging

        class Count(logging.Handler):
            lost = 0

            def emit(self, record):
                message = record.getMessage()
                Count.lost += "portal.tasks.send_email" in message and "not queued" in message

        logging.getLogger("portal.tasking").addHandler(Count())
        raised, slowest = 0, 0.0
        for i in range(args.while_down):
            for action in (lambda i=i: alloc_ids.append(approved_allocation(gpu=50 + i, cpu=100, users=())[0].pk),
                           lambda i=i: report_ids.append(report_request_period(
                               actor=officer, date_from=today - datetime.timedelta(days=60 + i), date_to=today,
                               language="en").pk)):
                started = time.monotonic()
                try:
                    action()
                except Exception as exc:
                    raised += 1
                    log(f"action while Redis is down raised {type(exc).__name__}: {exc}")
                slowest = max(slowest, time.monotonic() - started)
        n_alloc, n_reports = len(alloc_ids), len(report_ids)
        redis.start()
        res.add(f"redis restarted with {args.signal} (persistence={args.persistence}), down for (s)",
                round(time.monotonic() - t0, 2))
        res.add(f"while down: {args.while_down} approvals + {args.while_down} report requests; raised to the caller",
                raised)
        res.add("while down: slowest action (s) / e-mails kept in the outbox, not queued",
                f"{slowest:.2f} / {Count.lost}")
        after = redis.queue_lengths()
        res.add("queued after the restart", after)

        def snapshot():
            return (Allocation.objects.filter(pk__in=alloc_ids, sync_state=SyncState.IN_SYNC).count(),
                    Report.objects.filter(pk__in=report_ids, status=ReportStatus.DONE).count())

        t0 = time.monotonic()
        worker.start()
        quiescent(redis, snapshot, timeout=args.timeout)
        synced, done = snapshot()
        mails = mails_in_log(worker.log(), tag)
        res.add(f"worker alone: allocations in sync (of {n_alloc})", synced)
        res.add(f"worker alone: reports done (of {n_reports})", done)
        res.add(f"worker alone: tagged mails sent (of {n})", len(mails))
        res.add("worker alone: time to drain (s)", round(time.monotonic() - t0, 1))

        # The beat sweepers, as beat runs them, through the broker: provisioning every 5 min (allocations
        # with no attempt in the last 60 s), reports every 10 min (queued/running for more than 15 min).
        # e-mails every 2 min (unsent for more than 60 s). The drill backdates the reports by 16 min and
        # the outbox by 2 min instead of waiting.
        Report.objects.filter(pk__in=report_ids).update(created_at=timezone.now() - datetime.timedelta(minutes=16))
        OutgoingEmail.objects.filter(sent_at=None).update(created_at=timezone.now() - datetime.timedelta(minutes=2))
        from allocations.provisioning.tasks import slurm_sweep_unsynced
        from compliance.tasks import requeue_stale_reports
        from portal.tasks import send_pending_emails

        t0 = time.monotonic()
        slurm_sweep_unsynced.delay()
        requeue_stale_reports.delay()
        send_pending_emails.delay()
        quiescent(redis, snapshot, timeout=args.timeout)
        synced2, done2 = snapshot()
        mails2 = mails_in_log(worker.log(), tag)
        res.add("after the sweepers: allocations in sync", synced2)
        res.add("after the sweepers: reports done", done2)
        res.add("after the sweepers: tagged mails sent", len(mails2))
        outbox_total = OutgoingEmail.objects.count()
        outbox_unsent = OutgoingEmail.objects.filter(sent_at=None).count()
        res.add("outbox: messages / unsent / sent more than once (attempts > 1)",
                f"{outbox_total} / {outbox_unsent} / {OutgoingEmail.objects.filter(attempts__gt=1).count()}")
        res.add("sweepers: time to converge (s)", round(time.monotonic() - t0, 1))
        generated = audit_counts("report.generated", report_ids, "compliance.report")
        dup_mail = sum(c - 1 for c in mails2.values() if c > 1)
        dup_reports = sum(c - 1 for c in generated.values() if c > 1)
        files = [f for rid in report_ids for f in report_files(rid) if f.endswith(".pdf")]
        dup_files = len(files) - done2
        res.add("report.generated events / PDF files on disk", f"{sum(generated.values())} / {len(files)}")
        res.add("audit chain", verify_chain_cli(env))
        lost_alloc, lost_reports, lost_mail = n_alloc - synced2, n_reports - done2, n - len(mails2)
        res.add("lost for good: allocations / reports / tagged mails / outbox messages unsent",
                f"{lost_alloc} / {lost_reports} / {lost_mail} / {outbox_unsent}")
        notes = []
        return res.finish(lost=lost_alloc + lost_reports + lost_mail + outbox_unsent,
                          duplicated=dup_mail + dup_reports + max(dup_files, 0), notes=notes)
    finally:
        worker.stop()
        redis.stop()


# --- Slurm stack (drills 2 and 4) ---------------------------------------------------------------------

SLURM_DIR = Path(__import__("os").environ.get("AIF_SLURM_DIR", "/tmp/aif-slurm"))


def slurm_env() -> dict[str, str]:
    """The Slurm client environment of scripts/slurm-stack.sh; starts the stack when it is not up."""
    status = run(["bash", "scripts/slurm-stack.sh", "status"], check=False, timeout=60)
    if status.returncode != 0:
        log("Slurm stack not up: bash scripts/slurm-stack.sh start")
        run(["bash", "scripts/slurm-stack.sh", "start"], timeout=600)
    env = {}
    for line in (SLURM_DIR / "env.sh").read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            env[key] = value.strip('"')
    return env


def sacctmgr(env: dict, *args) -> str:
    import os

    out = run(["sacctmgr", "-n", "-P", *args], env={**os.environ, **env}, check=False, timeout=120)
    return out.stdout


def delete_accounts(env: dict, accounts: list[str]) -> None:
    import os

    for cluster in ("zellik", "charleroi"):
        if accounts:
            run(["sacctmgr", "-i", "delete", "account", ",".join(accounts), f"cluster={cluster}"],
                env={**os.environ, **env}, check=False, timeout=120)


def association_rows(env: dict, account: str) -> list[str]:
    return [r for r in sacctmgr(env, "show", "assoc", "where", f"account={account}", "cluster=zellik",
                                "format=account,user").splitlines() if r.strip()]


def planned_accounts(n: int) -> list[str]:
    """The Slurm accounts tests.provisioning.builders gives the first n allocations of a fresh database."""
    return [f"aif_2026_{9000 + i:04d}" for i in range(1, n + 1)]


def slurm_portal(drill: str, redis: PrivateRedis, db_url: str, senv: dict, **extra) -> dict[str, str]:
    var_dir(drill, fresh=True)
    env = portal_env(database_url=db_url, broker_url=redis.url(0), drill=drill, AIF_SLURM_BACKEND="sacctmgr",
                     AIF_SLURM_CONF=senv["SLURM_CONF"], **extra)
    env.update(senv)
    return env


def duplicate_audit(object_type: str, ids: list) -> int:
    """Events that appear more than once for the same object and action (a side effect done twice)."""
    from django.db.models import Count

    from portal.models import AuditEvent

    rows = (AuditEvent.objects.filter(object_type=object_type, object_id__in=[str(i) for i in ids])
            .values("object_id", "action").annotate(n=Count("id")).filter(n__gt=1))
    return sum(r["n"] - 1 for r in rows)


def running_attempt(ids: list[int]):
    from allocations.provisioning.models import SyncAttempt

    return SyncAttempt.objects.filter(allocation_id__in=ids, outcome="running").values_list(
        "allocation_id", flat=True).first()


# --- 2. worker SIGKILL mid-provisioning --------------------------------------------------------------


def drill_worker_kill(args) -> int:
    vt = args.visibility_timeout
    res = Results(f"worker-kill-vt{vt}")
    senv = slurm_env()
    pg = PrivatePostgres()
    db_url = pg.fresh_db("drill_worker_kill")
    redis = PrivateRedis("aof")
    redis.fresh()
    redis.start()
    extra = {}
    if vt != 3600:
        extra = {"DJANGO_SETTINGS_MODULE": "drill_settings", "AIF_DRILL_VISIBILITY_TIMEOUT": vt,
                 "PYTHONPATH": str(Path(__file__).resolve().parent)}
    env = slurm_portal(res.drill, redis, db_url, senv, **extra)
    django_setup(env)
    from allocations.catalogue.models import Site
    from allocations.grants.models import Allocation, SyncState
    from allocations.provisioning.models import SyncAttempt
    from allocations.provisioning.services import bootstrap_site
    from tests.factories import approved_allocation

    n = args.n
    accounts = planned_accounts(2 * n)
    delete_accounts(senv, accounts)
    worker = Worker(env, res.drill, concurrency=1, queues="slurm")
    ids: list[int] = []
    try:
        for site in Site.objects.all():
            assert bootstrap_site(site=site).ok
        worker.start()

        def synced(batch):
            return Allocation.objects.filter(pk__in=batch, sync_state=SyncState.IN_SYNC).count()

        # A: the pool process running the task is killed (OOM killer); the main process survives.
        batch_a = [approved_allocation(gpu=10 + i, cpu=100, users=())[0].pk for i in range(n)]
        ids += batch_a
        victim = wait_for(lambda: running_attempt(batch_a), 60, "a provisioning task to start", interval=0.05)
        pid = worker.kill_child()
        t_kill = time.monotonic()
        res.add("A: pool process SIGKILLed mid-task (allocation id, pid)", f"{victim}, {pid}")
        wait_for(lambda: Allocation.objects.filter(pk=victim, sync_state=SyncState.IN_SYNC).exists(), args.timeout,
                 "the killed allocation to converge")
        res.add("A: killed task redelivered and converged after (s)", round(time.monotonic() - t_kill, 1))
        wait_for(lambda: synced(batch_a) == n, args.timeout, "batch A to converge")
        res.add(f"A: allocations in sync (of {n})", synced(batch_a))
        res.add("A: 'Task handler raised error: WorkerLostError' in the worker log",
                worker.log().count("Task handler raised error: WorkerLostError"))

        # B: the whole worker is killed (machine or container lost), then started again.
        batch_b = [approved_allocation(gpu=30 + i, cpu=100, users=())[0].pk for i in range(n)]
        ids += batch_b
        victim = wait_for(lambda: running_attempt(batch_b), 60, "a provisioning task to start", interval=0.05)
        worker.kill_all()
        t_kill = time.monotonic()
        res.add("B: whole worker SIGKILLed mid-task (allocation id)", victim)
        res.add("B: broker right after the kill", redis.queue_lengths())
        worker.start()
        res.add("B: worker back after (s)", round(time.monotonic() - t_kill, 1))
        wait_for(lambda: synced([i for i in batch_b if i != victim]) == n - 1, args.timeout,
                 "the other allocations of batch B")
        res.add(f"B: the queued tasks ran after restart; in sync (of the other {n - 1})",
                synced([i for i in batch_b if i != victim]))
        res.add("B: broker once they ran (the killed task waits in 'unacked')", redis.queue_lengths())
        if vt <= 300:
            # No sweeper: measure when kombu restores the unacknowledged message by itself.
            wait_for(lambda: synced([victim]) == 1, vt + 300, "the unacknowledged task to be redelivered", 0.5)
            res.add(f"B: redelivered by the broker (visibility_timeout={vt}) and in sync after (s)",
                    round(time.monotonic() - t_kill, 1))
        else:
            # visibility_timeout=3600: kombu restores the message after an hour. The beat sweeper re-queues
            # allocations whose last attempt is older than 60 s (every 5 min in production; sent once here).
            time.sleep(max(0.0, 61 - (time.monotonic() - t_kill)))
            from allocations.provisioning.tasks import slurm_sweep_unsynced

            slurm_sweep_unsynced.delay()
            wait_for(lambda: synced([victim]) == 1, args.timeout, "the sweeper to converge the killed allocation")
            res.add("B: re-queued by the sweeper (sent at kill+61 s), in sync after (s)",
                    round(time.monotonic() - t_kill, 1))
            res.add("B: message still unacknowledged in Redis (redelivered at 3600 s)", redis.client().hlen("unacked"))
        time.sleep(3)
        res.add(f"allocations in sync (of {2 * n})", synced(ids))
        rows = {a.slurm_account: association_rows(senv, a.slurm_account)
                for a in Allocation.objects.filter(pk__in=ids)}
        bad = {k: v for k, v in rows.items() if v != [f"{k}|"]}
        res.add("Slurm associations per account == exactly one (accounts)", f"{len(rows) - len(bad)} of {len(rows)}")
        attempts = SyncAttempt.objects.filter(allocation_id__in=ids)
        res.add("sync attempts: total / success / noop / error / left 'running'",
                " / ".join(str(attempts.filter(outcome=o).count()) if o else str(attempts.count())
                           for o in ("", "success", "noop", "error", "running")))
        # The attempts of the killed tasks: the sweeper closes those older than 20 min (backdated here).
        from django.utils import timezone

        from allocations.provisioning.services import INTERRUPTED_ATTEMPT_SECONDS
        from allocations.provisioning.tasks import slurm_sweep_unsynced

        attempts.filter(outcome="running").update(
            started_at=timezone.now() - timezone.timedelta(seconds=INTERRUPTED_ATTEMPT_SECONDS + 60))
        slurm_sweep_unsynced.delay()
        wait_for(lambda: not attempts.filter(outcome="running").exists(), 60, "the sweeper to close dead attempts")
        res.add("after the sweeper (attempts backdated 21 min): left 'running' / closed as interrupted",
                f"{attempts.filter(outcome='running').count()} / "
                f"{attempts.filter(error__startswith='interrupted').count()}")
        dups = duplicate_audit("allocations.allocation", ids)
        res.add("audit events repeated for the same allocation and action", dups)
        res.add("audit chain", verify_chain_cli(env))
        lost = 2 * n - synced(ids)
        notes = []
        if vt > 300:
            notes.append("the killed task's message stays in Redis 'unacked' and runs again after 3600 s: "
                         "a no-op reconcile (one read per site)")
        return res.finish(lost=lost, duplicated=len(bad) + dups, notes=notes)
    finally:
        worker.stop()
        redis.stop()
        delete_accounts(senv, accounts)


# --- 4. slurmdbd stopped during approvals ------------------------------------------------------------


def stop_slurmdbd() -> None:
    import os

    pid = int((SLURM_DIR / "run" / "slurmdbd.pid").read_text().strip())
    os.kill(pid, signal.SIGTERM)

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/status").exists() and "zombie" in Path(f"/proc/{pid}/status").read_text()
    wait_for(gone, 30, "slurmdbd to stop")


def drill_slurmdbd(args) -> int:
    res = Results("slurmdbd")
    senv = slurm_env()
    pg = PrivatePostgres()
    db_url = pg.fresh_db("drill_slurmdbd")
    redis = PrivateRedis("aof")
    redis.fresh()
    redis.start()
    env = slurm_portal(res.drill, redis, db_url, senv)
    django_setup(env)
    from allocations.catalogue.models import Site
    from allocations.grants.models import Allocation, SyncState
    from allocations.provisioning.models import SyncAttempt
    from allocations.provisioning.services import bootstrap_site
    from tests.factories import approved_allocation

    n = args.n
    accounts = planned_accounts(n)
    delete_accounts(senv, accounts)
    worker = Worker(env, res.drill, concurrency=1, queues="slurm")
    ids: list[int] = []
    try:
        for site in Site.objects.all():
            assert bootstrap_site(site=site).ok
        worker.start()
        stop_slurmdbd()
        t_down = time.monotonic()
        res.add("slurmdbd stopped", "yes")
        ids = [approved_allocation(gpu=10 + i, cpu=100, users=())[0].pk for i in range(n)]
        res.add("allocations approved while slurmdbd is down", len(ids))
        wait_for(lambda: SyncAttempt.objects.filter(allocation_id__in=ids, outcome="error").count() >= args.failures,
                 180, "failed attempts while slurmdbd is down")
        in_sync_while_down = Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).count()
        failed_down = SyncAttempt.objects.filter(allocation_id__in=ids, outcome="error").count()
        res.add("attempts failed while down (recorded, retried with backoff)", failed_down)
        res.add("marked in sync while down (must be 0)", in_sync_while_down)
        t0 = time.monotonic()
        run(["bash", "scripts/slurm-stack.sh", "start"], timeout=300)
        res.add("slurmdbd down for (s)", round(time.monotonic() - t_down, 1))
        res.add("slurm-stack.sh start took (s)", round(time.monotonic() - t0, 1))
        t0 = time.monotonic()
        # Beat's sweeper (every 5 min) re-queues what is still marked; sent once, through the broker.
        from allocations.provisioning.tasks import slurm_sweep_unsynced

        slurm_sweep_unsynced.delay()
        wait_for(lambda: Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).count() == n,
                 args.timeout, f"all {n} allocations to converge", interval=0.5)
        res.add(f"converged after slurmdbd is back (of {n})",
                Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).count())
        res.add("time to converge after restart (s)", round(time.monotonic() - t0, 1))
        time.sleep(3)
        rows = {a.slurm_account: association_rows(senv, a.slurm_account)
                for a in Allocation.objects.filter(pk__in=ids)}
        bad = {k: v for k, v in rows.items() if v != [f"{k}|"]}
        res.add("accounts with exactly one association", f"{len(rows) - len(bad)} of {len(rows)}")
        attempts = SyncAttempt.objects.filter(allocation_id__in=ids)
        res.add("sync attempts: total / success / noop / error / left 'running'",
                " / ".join(str(attempts.filter(outcome=o).count()) if o else str(attempts.count())
                           for o in ("", "success", "noop", "error", "running")))
        dups = duplicate_audit("allocations.allocation", ids)
        res.add("audit events repeated for the same allocation and action", dups)
        res.add("audit chain", verify_chain_cli(env))
        lost = n - Allocation.objects.filter(pk__in=ids, sync_state=SyncState.IN_SYNC).count()
        return res.finish(lost=lost, duplicated=len(bad) + dups)
    finally:
        worker.stop()
        redis.stop()
        run(["bash", "scripts/slurm-stack.sh", "start"], timeout=300, check=False)
        delete_accounts(senv, accounts)


# --- 3. PostgreSQL restarted during a burst of submissions -------------------------------------------


def submit_client(args) -> int:
    """One client process of drill 3: submits its applications, retrying on connection errors."""
    import json
    import os
    import random

    django_setup(dict(os.environ))
    from django.core.exceptions import ValidationError
    from django.db import InterfaceError, OperationalError, close_old_connections, connection

    from allocations.applications.declaration import DECLARATION_VERSION
    from allocations.applications.models import Application
    from allocations.applications.services import application_submit

    stats = {"submitted": 0, "already_submitted_on_retry": 0, "connection_errors": 0, "other_errors": [],
             "max_latency_s": 0.0, "gave_up": 0}
    deadline = time.monotonic() + args.timeout
    for pk in [int(x) for x in args.ids.split(",") if x]:
        started = time.monotonic()
        retried = False
        while True:
            try:
                app = Application.objects.select_related("created_by").get(pk=pk)
                if retried and app.status == "submitted":
                    stats["already_submitted_on_retry"] += 1
                    break
                application_submit(actor=app.created_by, application=app, declaration_version=DECLARATION_VERSION)
                stats["submitted"] += 1
                break
            except (OperationalError, InterfaceError):
                stats["connection_errors"] += 1
                retried = True
                connection.close()
                close_old_connections()
                if time.monotonic() > deadline:
                    stats["gave_up"] += 1
                    break
                time.sleep(0.2 + random.random() * 0.3)
            except ValidationError as exc:
                stats["other_errors"].append(f"{pk}: {exc.messages[:1]}")
                break
        stats["max_latency_s"] = max(stats["max_latency_s"], round(time.monotonic() - started, 2))
        time.sleep(args.pause)
    print("CLIENT-STATS " + json.dumps(stats), flush=True)
    return 0


def drill_postgres(args) -> int:
    import json
    import subprocess

    res = Results("postgres")
    pg = PrivatePostgres()
    db_url = pg.fresh_db("drill_postgres")
    redis = PrivateRedis("aof")
    redis.fresh()
    redis.start()
    var_dir(res.drill, fresh=True)
    env = portal_env(database_url=db_url, broker_url=redis.url(0), drill=res.drill, AIF_SLURM_BACKEND="record")
    django_setup(env)
    from django.db import connection
    from django.db.models import Count

    from allocations.applications.models import Application
    from compliance.models import EthicsReview
    from portal.models import AuditEvent
    from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, complete, publish_capacity

    clients: list[subprocess.Popen] = []
    try:
        publish_capacity()
        t0 = time.monotonic()
        ids = []
        for _i in range(args.m):
            org = OrganisationFactory()
            user = UserFactory()
            MembershipFactory(user=user, organisation=org)
            ids.append(complete(user, org).pk)
        res.add("complete drafts created through the services (s)", round(time.monotonic() - t0, 1))
        res.add("drafts", Application.objects.filter(pk__in=ids, status="draft").count())
        from portal.models import OutgoingEmail

        mails_before = redis.queue_lengths()["default"]
        outbox_before = OutgoingEmail.objects.count()
        connection.close()
        slices = [ids[i::args.clients] for i in range(args.clients)]
        t_burst = time.monotonic()
        for part in slices:
            clients.append(subprocess.Popen(
                [str(PYTHON), __file__, "_submit-client", "--ids", ",".join(map(str, part)), "--pause",
                 str(args.pause), "--timeout", str(args.timeout)],
                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))

        def submitted_count():
            return Application.objects.filter(pk__in=ids, status="submitted").count()

        at = wait_for(lambda: (c := submitted_count()) >= args.m * args.restart_at and c + 1, 120,
                      "the burst to be under way", interval=0.05) - 1
        connection.close()
        t_down = time.monotonic()
        pg.stop(args.mode)
        time.sleep(args.down)
        pg.start()
        downtime = time.monotonic() - t_down
        res.add(f"PostgreSQL restarted (pg_ctl -m {args.mode}) after submissions", at)
        res.add("PostgreSQL down for (s)", round(downtime, 2))
        stats = []
        for proc in clients:
            out, _ = proc.communicate(timeout=args.timeout + 60)
            line = [x for x in out.splitlines() if x.startswith("CLIENT-STATS ")]
            if not line:
                raise RuntimeError(f"client failed:\n{out[-3000:]}")
            stats.append(json.loads(line[-1][len("CLIENT-STATS "):]))
        res.add(f"burst: {args.m} submissions from {args.clients} processes, total time (s)",
                round(time.monotonic() - t_burst, 1))
        total = {k: sum(s[k] for s in stats) for k in ("submitted", "already_submitted_on_retry",
                                                         "connection_errors", "gave_up")}
        res.add("clients: submitted / already submitted when retried / connection errors / gave up",
                f"{total['submitted']} / {total['already_submitted_on_retry']} / {total['connection_errors']} / "
                f"{total['gave_up']}")
        res.add("clients: slowest submission including retries (s)", max(s["max_latency_s"] for s in stats))
        other = [e for s in stats for e in s["other_errors"]]
        res.add("clients: other errors", other or 0)
        # What the database holds.
        submitted = Application.objects.filter(pk__in=ids, status="submitted")
        half = Application.objects.filter(pk__in=ids, status="submitted").filter(submitted_at=None).count() + \
            Application.objects.filter(pk__in=ids, status="submitted", decision_due=None).count()
        events = (AuditEvent.objects.filter(action="application.status_changed", object_type="allocations.application",
                                            object_id__in=[str(i) for i in ids], changes__status=["draft", "submitted"])
                  .values("object_id").annotate(n=Count("id")))
        per_app = {e["object_id"]: e["n"] for e in events}
        ethics = (AuditEvent.objects.filter(action__in=["ethics_review.opened", "ethics_review.auto_cleared"],
                                            object_id__in=[str(i) for i in ids]).values("object_id")
                  .annotate(n=Count("id")))
        per_app_ethics = {e["object_id"]: e["n"] for e in ethics}
        reviews = EthicsReview.objects.filter(application_id__in=ids).count()
        res.add(f"applications submitted (of {args.m})", submitted.count())
        res.add("submitted without submitted_at/decision_due (half-written)", half)
        res.add("'submitted' audit events: apps with exactly one / with more than one / with none",
                f"{sum(1 for i in ids if per_app.get(str(i)) == 1)} / {sum(1 for v in per_app.values() if v > 1)} / "
                f"{sum(1 for i in ids if str(i) not in per_app)}")
        res.add("ethics-track audit events: apps with exactly one / more than one",
                f"{sum(1 for v in per_app_ethics.values() if v == 1)} / "
                f"{sum(1 for v in per_app_ethics.values() if v > 1)}")
        res.add("ethics review rows", reviews)
        mails = OutgoingEmail.objects.count() - outbox_before
        queued = redis.queue_lengths()["default"] - mails_before
        res.add(f"status-change mails stored in the outbox with their commit (of {args.m})", mails)
        res.add("of which queued to the broker on commit (the beat sweeper queues the others)", queued)
        res.add("audit chain", verify_chain_cli(env))
        lost = args.m - submitted.count()
        dup = sum(v - 1 for v in per_app.values() if v > 1) + sum(v - 1 for v in per_app_ethics.values() if v > 1)
        notes = []
        if mails != args.m:
            notes.append(f"{args.m - mails} status-change mail(s) missing from the outbox")
        return res.finish(lost=lost + half + max(0, args.m - mails), duplicated=dup + max(0, mails - args.m),
                          notes=notes)
    finally:
        for proc in clients:
            if proc.poll() is None:
                proc.kill()
        redis.stop()


# --- 5. a report generation interrupted ---------------------------------------------------------------


def report_state(report_id: int) -> dict:
    from compliance.models import Report

    return Report.objects.values("status", "progress", "error", "file_name", "csv_file_name").get(pk=report_id)


def check_report(res: Results, env: dict, report_id: int, label: str) -> tuple[int, int]:
    """Exactly one finished report with a verifiable PDF, nothing else on disk: (lost, duplicated)."""
    from compliance.reports.services import report_dir

    state = report_state(report_id)
    files = report_files(report_id)
    kept = {state["file_name"], state["csv_file_name"]} - {""}
    orphans = [f for f in files if f not in kept]
    generated = audit_counts("report.generated", [report_id], "compliance.report").get(str(report_id), 0)
    failed = audit_counts("report.failed", [report_id], "compliance.report").get(str(report_id), 0)
    verdict = "no file"
    if state["file_name"]:
        out = run([str(PYTHON), "manage.py", "verify_report", str(report_dir() / state["file_name"])], env=env,
                  check=False, timeout=120)
        verdict = (out.stdout + out.stderr).strip().split(":")[0] + f" (rc={out.returncode})"
    res.add(f"{label}: final status / progress", f"{state['status']} / {state['progress']}")
    res.add(f"{label}: report.generated / report.failed events", f"{generated} / {failed}")
    res.add(f"{label}: verify_report on the served PDF", verdict)
    res.add(f"{label}: files of the report on disk (served + orphans)", f"{len(kept)} + {len(orphans)} {orphans or ''}")
    lost = 0 if state["status"] == "done" and verdict.startswith("VALID") else 1
    return lost, max(0, generated - 1) + len(orphans)


def watch(report_id: int, seconds: float) -> list[str]:
    """What the report page shows, sampled every 0.5 s: status (progress) [error]."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        st = report_state(report_id)
        text = f"{st['status']}({st['progress']})" + (f" [{st['error'][:60]}]" if st["error"] else "")
        if not seen or seen[-1] != text:
            seen.append(text)
        if st["status"] == "done":
            break
        time.sleep(0.5)
    return seen


def drill_report(args) -> int:
    res = Results("report")
    pg = PrivatePostgres()
    db_name = "drill_report"
    db_url = pg.fresh_db(db_name)
    redis = PrivateRedis("aof")
    redis.fresh()
    redis.start()
    var_dir(res.drill, fresh=True)
    env = portal_env(database_url=db_url, broker_url=redis.url(0), drill=res.drill, AIF_SLURM_BACKEND="record")
    django_setup(env)
    import datetime

    from django.utils import timezone

    from compliance.models import Report
    from compliance.reports.services import report_request_period
    from compliance.tasks import generate_report, requeue_stale_reports
    from tests.factories import EthicsOfficerFactory, decisions

    worker = Worker(env, res.drill, concurrency=1, queues="default,reports")
    lost = dup = 0
    try:
        decisions(args.decisions)
        officer = EthicsOfficerFactory()
        today = timezone.localdate()

        def request():
            return report_request_period(actor=officer, date_from=today - datetime.timedelta(days=90),
                                         date_to=today, language="en").pk

        worker.start()
        # Baseline: how long one report takes, uninterrupted.
        rid = request()
        t0 = time.monotonic()
        wait_for(lambda: report_state(rid)["status"] == "done", args.timeout, "the baseline report")
        res.add("baseline: one period report, uninterrupted (s)", round(time.monotonic() - t0, 1))

        def running_at(report_id, progress):
            st = report_state(report_id)
            return st["status"] == "running" and st["progress"] >= progress

        def request_until_rendering() -> int:
            """A new report, once the worker is rendering it past --kill-at."""
            rid = request()
            wait_for(lambda: running_at(rid, args.kill_at), args.timeout, "the report to be rendering", 0.02)
            return rid

        # A: the pool process rendering the report is SIGKILLed (OOM killer).
        rid = request_until_rendering()
        worker.kill_child()
        t0 = time.monotonic()
        res.add("A: pool process SIGKILLed at progress", report_state(rid)["progress"])
        res.add("A: what the report page showed until done", " -> ".join(watch(rid, args.timeout)))
        res.add("A: done after (s)", round(time.monotonic() - t0, 1))
        lo, du = check_report(res, env, rid, "A")
        lost, dup = lost + lo, dup + du

        # B: the whole worker is SIGKILLed (machine lost) and started again.
        rid = request_until_rendering()
        worker.kill_all()
        t0 = time.monotonic()
        worker.start()
        res.add("B: whole worker SIGKILLed and restarted; page after 20 s", " -> ".join(watch(rid, 20)))
        res.add("B: broker: the task waits in 'unacked' (visibility_timeout 3600 s)", redis.queue_lengths())
        # Beat's requeue_stale_reports (every 10 min) takes reports queued or running for more than 15 min;
        # the drill backdates the report by 16 min instead of waiting.
        Report.objects.filter(pk=rid).update(created_at=timezone.now() - datetime.timedelta(minutes=16))
        requeue_stale_reports.delay()
        res.add("B: after the stale-report sweeper", " -> ".join(watch(rid, args.timeout)))
        res.add("B: done after the sweeper ran (s)", round(time.monotonic() - t0, 1))
        # The unacknowledged message comes back after visibility_timeout: the same task again, on a done report.
        generate_report.delay(rid)
        time.sleep(5)
        lo, du = check_report(res, env, rid, "B (+ redelivered task)")
        lost, dup = lost + lo, dup + du

        # C: the worker's database connection is dropped mid-report (pg_terminate_backend).
        rid = request_until_rendering()
        killed = pg.psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db_name}' "
                         "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                         "AND application_name NOT LIKE 'psql%'")
        from django.db import connection

        connection.close()
        t0 = time.monotonic()
        res.add("C: database connections terminated mid-report", killed)
        res.add("C: what the report page showed until done", " -> ".join(watch(rid, args.timeout)))
        res.add("C: done after (s)", round(time.monotonic() - t0, 1))
        lo, du = check_report(res, env, rid, "C")
        lost, dup = lost + lo, dup + du

        # D: PostgreSQL itself goes away mid-report for longer than the task's retries last.
        rid = request_until_rendering()
        connection.close()
        log_mark = len(worker.log())
        pg.stop("immediate")
        t0 = time.monotonic()
        time.sleep(args.pg_down)
        pg.start()
        res.add("D: PostgreSQL stopped (immediate) mid-report, down for (s)", round(time.monotonic() - t0, 1))
        # The task's own retries (countdowns up to retry_backoff_max=300 s) should finish the report.
        page = watch(rid, 330)
        tail = worker.log()[log_mark:]
        res.add("D: task retries / gave up", f"{tail.count('retry: Retry in')} / {tail.count('raised unexpected')}")
        res.add("D: what the report page showed (up to 330 s after PostgreSQL is back)", " -> ".join(page))
        if report_state(rid)["status"] != "done":
            Report.objects.filter(pk=rid).update(created_at=timezone.now() - datetime.timedelta(minutes=16))
            requeue_stale_reports.delay()
            res.add("D: after the stale-report sweeper (report backdated 16 min)",
                    " -> ".join(watch(rid, args.timeout)))
        res.add("D: done after the outage began (s)", round(time.monotonic() - t0, 1))
        lo, du = check_report(res, env, rid, "D")
        lost, dup = lost + lo, dup + du
        res.add("audit chain", verify_chain_cli(env))
        return res.finish(lost=lost, duplicated=dup)
    finally:
        worker.stop()
        redis.stop()


# --- main ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="drill", required=True)
    p = sub.add_parser("redis", help="1. Redis restarted while tasks are queued, no worker running")
    p.add_argument("--persistence", choices=["none", "aof", "rdb"], default="none")
    p.add_argument("--signal", choices=["term", "kill"], default="kill")
    p.add_argument("-n", type=int, default=20, help="allocations approved and mails queued")
    p.add_argument("--reports", type=int, default=5)
    p.add_argument("--while-down", type=int, default=3, help="approvals and report requests made while down")
    p.add_argument("--timeout", type=float, default=300)
    p.set_defaults(func=drill_redis)
    p = sub.add_parser("worker-kill", help="2. worker SIGKILL mid-provisioning (pool process, then whole worker)")
    p.add_argument("-n", type=int, default=5, help="allocations per phase")
    p.add_argument("--visibility-timeout", type=int, default=3600,
                   help="Redis visibility_timeout for this run (the portal's setting is 3600)")
    p.add_argument("--timeout", type=float, default=240)
    p.set_defaults(func=drill_worker_kill)
    p = sub.add_parser("postgres", help="3. PostgreSQL restarted during a burst of submissions")
    p.add_argument("-m", type=int, default=60, help="complete drafts submitted")
    p.add_argument("--clients", type=int, default=6, help="client processes")
    p.add_argument("--pause", type=float, default=0.05, help="seconds between two submissions of a client")
    p.add_argument("--restart-at", type=float, default=0.3, help="restart once this share is submitted")
    p.add_argument("--mode", choices=["fast", "immediate"], default="immediate", help="pg_ctl stop mode")
    p.add_argument("--down", type=float, default=5, help="seconds PostgreSQL stays down")
    p.add_argument("--timeout", type=float, default=180)
    p.set_defaults(func=drill_postgres)
    p = sub.add_parser("_submit-client")
    p.add_argument("--ids", required=True)
    p.add_argument("--pause", type=float, default=0.05)
    p.add_argument("--timeout", type=float, default=180)
    p.set_defaults(func=submit_client)
    p = sub.add_parser("slurmdbd", help="4. slurmdbd stopped while allocations are approved")
    p.add_argument("-n", type=int, default=20)
    p.add_argument("--failures", type=int, default=5, help="failed attempts to wait for before restarting")
    p.add_argument("--timeout", type=float, default=300)
    p.set_defaults(func=drill_slurmdbd)
    p = sub.add_parser("report", help="5. report generation interrupted (pool kill, worker kill, connection drop)")
    p.add_argument("--decisions", type=int, default=20, help="approved allocations the period report covers")
    p.add_argument("--kill-at", type=int, default=30, help="interrupt once the report's progress reaches this")
    p.add_argument("--pg-down", type=float, default=45, help="seconds PostgreSQL stays down in phase D")
    p.add_argument("--timeout", type=float, default=240)
    p.set_defaults(func=drill_report)
    p = sub.add_parser("pg-up", help="start the private PostgreSQL (kept until `stop`)")
    p.set_defaults(func=lambda args: PrivatePostgres().ensure_running() or 0)
    p = sub.add_parser("stop", help="stop the private PostgreSQL")
    p.set_defaults(func=lambda args: PrivatePostgres().stop() or 0)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
