"""The audit trail: hash-chained, verified by a command, append-only on PostgreSQL, fork-free."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import load_command_class
from django.db import DatabaseError, connection, transaction

from portal import tasks
from portal.audit import GENESIS_HASH, HEAD_LOGGER, AuditAction, audit_record, verify_chain
from portal.models import AuditChainHead, AuditEvent
from portal.schedule import BEAT_SCHEDULE
from tests.factories import UserFactory

REPO = Path(__file__).resolve().parents[2]
TRIGGER = "compliance_auditevent_no_update"


def append_events(n: int, *, actor=None, prefix: str = "test") -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=actor, action=AuditAction.ORGANISATION_UPDATED, target=(f"tests.{prefix}", str(i)),
                         changes={"i": i, "note": "ünïcödé €", "nested": {"a": [1, 2, 3]}})


def run_verify_command(*args: str) -> tuple[int, str, str]:
    """`manage.py verify_audit_chain` as the command line runs it (exit code included), in-process
    so it sees the test database. run_from_argv closes every connection at the end, which would
    end the test's transaction, so that one call is neutralised."""
    command = load_command_class("compliance", "verify_audit_chain")
    out, err = StringIO(), StringIO()
    command.stdout._out, command.stderr._out = out, err  # OutputWrapper targets
    with mock.patch("django.core.management.base.connections.close_all"):
        try:
            command.run_from_argv(["manage.py", "verify_audit_chain", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def raw_sql_allowed():
    """On PostgreSQL, disable the append-only trigger for the test's transaction (rolled back
    afterwards): it shows that the chain catches tampering even by someone who can bypass it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE compliance_auditevent DISABLE TRIGGER {TRIGGER}")
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE compliance_auditevent ENABLE TRIGGER {TRIGGER}")


# --- verification ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_empty_chain_verifies():
    result = verify_chain()
    assert (result.ok, result.count, result.head_hash) == (True, 0, GENESIS_HASH)


@pytest.mark.django_db
def test_chain_of_500_events_verifies_with_the_command():
    actor = UserFactory()
    append_events(500, actor=actor)
    code, out, err = run_verify_command()
    assert code == 0, err
    assert "Audit chain OK: 500 events" in out
    head = AuditChainHead.objects.get()
    assert head.seq == 500
    assert out.strip().endswith(head.head_hash)
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, 501))
    # Every link points at the previous event's hash.
    rows = list(AuditEvent.objects.values_list("prev_hash", "hash"))
    assert rows[0][0] == GENESIS_HASH
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))


@pytest.mark.django_db
def test_tampering_with_changes_is_detected(raw_sql_allowed):
    append_events(500)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET changes = %s WHERE seq = %s",
                       [json.dumps({"i": 999}), 250])
    code, out, err = run_verify_command()
    assert code != 0
    assert "BROKEN at event #250" in err
    assert "content does not match its hash" in err
    assert "249 events verified" in err
    assert "OK" not in out


@pytest.mark.django_db
def test_rewriting_a_row_and_its_hash_is_detected_at_the_next_link(raw_sql_allowed):
    """Someone who recomputes the tampered row's own hash still breaks the next event's link."""
    from portal.audit import canonical_changes, compute_hash

    append_events(20)
    event = AuditEvent.objects.get(seq=10)
    forged_changes = canonical_changes({"i": "forged"})
    forged_hash = compute_hash(seq=10, created_at=event.created_at, actor_id=event.actor_id, action=event.action,
                               object_type=event.object_type, object_id=event.object_id,
                               changes=forged_changes, request_id=event.request_id, prev_hash=event.prev_hash)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET changes = %s, hash = %s WHERE seq = 10",
                       [json.dumps(forged_changes), forged_hash])
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == 11
    assert result.reason == "previous-hash link does not match"


@pytest.mark.django_db
def test_deleting_the_last_event_is_detected(raw_sql_allowed):
    append_events(30)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM compliance_auditevent WHERE seq = 30")
    code, _out, err = run_verify_command()
    assert code != 0
    assert "BROKEN at event #30" in err
    assert "missing" in err


@pytest.mark.django_db
def test_deleting_an_event_in_the_middle_is_detected(raw_sql_allowed):
    append_events(30)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM compliance_auditevent WHERE seq = 12")
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == 13
    assert result.count == 11


# --- a head remembered outside the database ---------------------------------------------------------


def remembered(seq: int) -> tuple[str, str]:
    return "--expect-seq", str(seq), "--expect-hash", AuditEvent.objects.get(seq=seq).hash


@pytest.mark.django_db
def test_a_remembered_head_that_the_chain_holds_passes():
    append_events(30)
    code, out, err = run_verify_command(*remembered(30))
    assert code == 0, err
    assert "Remembered head #30 found" in out
    assert "Audit chain OK: 30 events" in out
    # An older head (an earlier log line, an older PDF report) is in the chain too.
    code, out, err = run_verify_command(*remembered(12))
    assert code == 0, err
    assert "Remembered head #12 found" in out


@pytest.mark.django_db
def test_removing_the_newest_events_and_rewinding_the_head_is_caught_by_a_remembered_head(raw_sql_allowed):
    """Deleting the newest events and rewinding the head row leaves a shorter chain that verifies on its
    own; the head remembered before (from the log or a PDF report) is what shows that events are gone."""
    append_events(30)
    expect = remembered(30)
    kept = AuditEvent.objects.get(seq=25)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM compliance_auditevent WHERE seq > 25")
        cursor.execute("UPDATE compliance_auditchainhead SET seq = %s, head_hash = %s WHERE id = 1",
                       [kept.seq, kept.hash])
    assert verify_chain().ok  # the gap the remembered head closes
    code, out, err = run_verify_command(*expect)
    assert code == 1
    assert "BROKEN at event #26" in err
    assert "the chain ends at event #25, before the remembered head #30" in err
    assert "newest events were removed" in err
    assert "OK" not in out


@pytest.mark.django_db
def test_a_remembered_head_with_an_unknown_hash_fails():
    append_events(10)
    code, out, err = run_verify_command("--expect-seq", "10", "--expect-hash", "ab" * 32)
    assert code == 1
    assert "BROKEN at event #10" in err
    assert f"differs from the remembered head's {'ab' * 32}" in err
    assert "9 events verified before it" in err
    assert "OK" not in out


@pytest.mark.django_db
def test_the_remembered_head_needs_both_options_and_a_well_formed_hash():
    append_events(2)
    code, _out, err = run_verify_command("--expect-seq", "2")
    assert code == 1 and "go together" in err
    code, _out, err = run_verify_command("--expect-seq", "2", "--expect-hash", "not-a-hash")
    assert code == 1 and "64 hexadecimal digits" in err
    # The head logged before the first event (seq=0, the genesis hash) is accepted.
    code, _out, err = run_verify_command("--expect-seq", "0", "--expect-hash", GENESIS_HASH)
    assert code == 0, err


@pytest.mark.django_db
def test_the_beat_task_logs_the_head_and_is_scheduled(caplog):
    append_events(7)
    head = AuditChainHead.objects.get()
    with caplog.at_level(logging.INFO, logger=HEAD_LOGGER):
        assert tasks.log_audit_chain_head.apply().get() == 7
    records = [r for r in caplog.records if r.name == HEAD_LOGGER]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, f"audit chain head seq=7 hash={head.head_hash}")]
    entry = BEAT_SCHEDULE["audit-chain-head"]
    assert entry["task"] == tasks.log_audit_chain_head.name == "portal.tasks.log_audit_chain_head"
    assert entry["schedule"].minute == set(range(0, 60, 10))
    # LOG_LEVEL=WARNING must not silence the line the operator ships off the machine.
    assert settings.LOGGING["loggers"][HEAD_LOGGER]["level"] == "INFO"


@pytest.mark.django_db
def test_changes_are_stored_exactly_as_hashed():
    event = audit_record(actor=None, action=AuditAction.ORGANISATION_UPDATED, target=("tests.thing", "1"),
                         changes={"when": __import__("datetime").date(2026, 1, 2), "set": {3, 1, 2}})
    event.refresh_from_db()
    assert event.changes == {"when": "2026-01-02", "set": [1, 2, 3]}
    assert verify_chain().ok


@pytest.mark.django_db
def test_audit_record_joins_the_callers_transaction():
    """An event exists exactly when the change it describes was committed."""
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action=AuditAction.ORGANISATION_UPDATED, target=("tests.thing", "1"))
        raise RuntimeError
    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.get().seq == 0
    append_events(1)
    assert verify_chain().ok


# --- PostgreSQL: the trigger, concurrent writers, the real command line ----------------------------


def test_postgres_refuses_update_and_delete(postgres):
    append_events(3)
    statements = [
        ("UPDATE compliance_auditevent SET changes = '{}' WHERE seq = 2", "UPDATE"),
        ("DELETE FROM compliance_auditevent WHERE seq = 3", "DELETE"),
        ("UPDATE compliance_auditevent SET action = 'x'", "UPDATE"),
    ]
    for sql, operation in statements:
        with pytest.raises(DatabaseError, match=rf"append-only \({operation} refused\)"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    # The ORM goes through the same trigger.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    assert AuditEvent.objects.count() == 3
    assert verify_chain().ok


@pytest.mark.postgres
def test_postgres_a_role_that_does_not_own_the_table_cannot_remove_events_or_the_trigger(postgres):
    """The portal's role in production (docs/deploy.md): it may append, but neither the trigger nor its
    privileges let it change, delete or truncate events, nor switch the trigger off or drop it.
    The trigger tests above run as the table's owner, who can do all of that."""
    append_events(3)
    role = f"aif_audit_portal_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        # Created in the test's transaction: rolled back with it.
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        # As docs/deploy.md grants it: the schema's tables and sequences, without TRUNCATE on the trail.
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"SET ROLE {role}")
    refused = [
        ("UPDATE compliance_auditevent SET changes = '{}' WHERE seq = 2", r"append-only \(UPDATE refused\)"),
        ("DELETE FROM compliance_auditevent WHERE seq = 3", r"append-only \(DELETE refused\)"),
        ("TRUNCATE compliance_auditevent CASCADE", "permission denied"),
        (f"ALTER TABLE compliance_auditevent DISABLE TRIGGER {TRIGGER}", "must be owner"),
        ("ALTER TABLE compliance_auditevent DISABLE TRIGGER ALL", "must be owner"),
        (f"DROP TRIGGER {TRIGGER} ON compliance_auditevent", "must be owner"),
        ("DROP FUNCTION compliance_auditevent_immutable() CASCADE", "must be owner"),
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role
        for sql, message in refused:
            with pytest.raises(DatabaseError, match=message), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)
        append_events(1)  # what the portal does, it still may
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert AuditEvent.objects.count() == 4
    assert verify_chain().ok


def test_concurrent_writers_do_not_fork_the_chain(postgres_transactional):
    threads_n, per_thread = 10, 20
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            append_events(per_thread, prefix=f"writer{k}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    result = verify_chain()
    assert result.ok, result
    assert result.count == threads_n * per_thread
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 201))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 200  # no two events share a parent
    per_writer = {f"tests.writer{k}": per_thread for k in range(threads_n)}
    from django.db.models import Count

    counted = dict(AuditEvent.objects.values_list("object_type").annotate(n=Count("id")))
    assert counted == per_writer


def test_verify_command_line_against_postgres(postgres_transactional):
    """The real `python manage.py verify_audit_chain`, in a subprocess, against the test database."""
    append_events(25)
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    done = subprocess.run([sys.executable, "manage.py", "verify_audit_chain"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Audit chain OK: 25 events" in done.stdout
    # A row slipped in with the trigger bypassed (as a database owner could) breaks the chain.
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE compliance_auditevent DISABLE TRIGGER {TRIGGER}")
        cursor.execute("UPDATE compliance_auditevent SET object_id = 'x' WHERE seq = 7")
        cursor.execute(f"ALTER TABLE compliance_auditevent ENABLE TRIGGER {TRIGGER}")
    done = subprocess.run([sys.executable, "manage.py", "verify_audit_chain"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "BROKEN at event #7" in done.stderr
