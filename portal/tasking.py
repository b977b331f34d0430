"""Queue Celery tasks by their registered name.

A task module imports the service it wraps, so a service that schedules a task names it instead of
importing it: imports point one way (tasks -> services), never back. The task's module is imported on
first use when no worker-side autodiscovery has registered it yet (a web process, the tests)."""

from __future__ import annotations

import importlib
import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def task_by_name(name: str):
    tasks = current_app.tasks
    if name not in tasks:
        importlib.import_module(name.rpartition(".")[0])
    return tasks[name]


def enqueue(name: str, *args, **kwargs) -> bool:
    """Queue the task now. A broker that cannot be reached is logged, not raised: every caller has a
    sweeper that queues the work again (provisioning marks, the e-mail outbox, queued reports)."""
    try:
        task_by_name(name).delay(*args, **kwargs)
    except Exception:  # kombu raises several unrelated classes when the broker is unreachable
        logger.warning("could not queue task %s%r", name, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(name: str, *args, **kwargs) -> None:
    """Queue the task once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(name, *args, **kwargs))
