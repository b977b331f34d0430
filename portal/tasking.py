"""Queue Celery tasks by their registered name, after the commit of the change they follow.

Services schedule their side effects through here instead of importing the task functions: a task
module imports its service to call it, so a service importing the task would make a cycle. The task
is looked up by name in the Celery app's registry and queued with `delay`, so eager mode in the tests
runs it as the worker would (`send_task` would bypass the registry and need a broker)."""

from __future__ import annotations

import importlib
import logging
from functools import partial

from celery import current_app
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)


def registered_task(task_name: str):
    """The task registered under `task_name`; a KeyError names a task that does not exist (a typo, or a
    `name=` changed without the callers), raised in the caller rather than after its commit."""
    if task_name not in current_app.tasks:
        # Only a worker imports the tasks modules when it starts; a web process has imported none (nothing
        # imports a task function any more). A task's name is its module path: import that module, or else
        # every installed app's `tasks` module as the worker's autodiscovery does, without its start-up work.
        try:
            importlib.import_module(task_name.rpartition(".")[0])
        except ImportError:
            autodiscover_modules("tasks")
    return current_app.tasks[task_name]


def enqueue(task_name: str, *args, **kwargs) -> bool:
    """Queue the task now. Returns False when the broker is unreachable: that is logged, not raised, so a
    committed change is never turned into an error; every queued task has a sweeper or a retry path."""
    task = registered_task(task_name)
    try:
        task.delay(*args, **kwargs)
    except Exception:  # kombu raises transport-specific errors
        logger.warning("task %s%r not queued, the broker is unreachable; its sweeper queues it later", task_name,
                       args, exc_info=True)
        return False
    return True


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Queue the task once the current transaction commits (at once outside a transaction); nothing is
    queued if it rolls back."""
    registered_task(task_name)
    transaction.on_commit(partial(enqueue, task_name, *args, **kwargs))
