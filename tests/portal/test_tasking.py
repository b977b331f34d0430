"""portal.tasking: tasks queued by name after the commit, never an error for a committed change."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

from portal import tasks
from portal.schedule import BEAT_SCHEDULE
from portal.tasking import enqueue, enqueue_on_commit

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.ping, "apply_async", lambda args, kwargs: calls.append((args, kwargs)))
    return calls


def test_queued_after_the_commit_with_its_arguments(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("portal.tasks.ping", 7, mode="x")
        assert sent == []
    assert sent == [((7,), {"mode": "x"})]


def test_nothing_is_queued_when_the_transaction_rolls_back(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit("portal.tasks.ping", 7)
            raise RuntimeError("the change failed")
    assert callbacks == [] and sent == []


def test_an_unknown_task_name_fails_in_the_caller_before_the_commit(django_capture_on_commit_callbacks):
    with pytest.raises(KeyError), django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_on_commit("portal.tasks.no_such_task", 1)
    assert callbacks == []


def test_an_unreachable_broker_is_logged_not_raised(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.ping, "apply_async", refuse)
    with caplog.at_level(logging.WARNING, logger="portal.tasking"):
        assert enqueue("portal.tasks.ping") is False
    assert "portal.tasks.ping" in caplog.text and "broker is unreachable" in caplog.text


def test_eager_mode_runs_the_registered_task():
    assert enqueue("portal.tasks.ping") is True


def test_every_task_the_schedule_names_is_registered_under_that_name():
    current_app.loader.import_default_modules()  # as the worker and beat do when they start
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks, entry["task"]


def test_a_process_that_imported_no_task_module_still_finds_the_task():
    """The web process: no module imports portal.tasks there; the lookup imports the tasks modules."""
    code = ("import django; django.setup()\n"
            "from celery import current_app\n"
            "assert 'portal.tasks.send_email' not in current_app.tasks\n"
            "from portal.tasking import registered_task\n"
            "print(registered_task('portal.tasks.send_email').name)\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "portal.tasks.send_email"
