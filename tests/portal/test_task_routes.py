"""Every registered task lands on the queue whose worker can run it (CELERY_TASK_ROUTES)."""

import pytest

from portal.celery import app

SLURM = {
    "allocations.provisioning.tasks.provision_allocation",
    "allocations.provisioning.tasks.slurm_pull_usage",
    "allocations.provisioning.tasks.slurm_read_site",
    "allocations.provisioning.tasks.slurm_reconcile_all",
    "allocations.provisioning.tasks.slurm_reconcile_site",
    "allocations.provisioning.tasks.slurm_sweep_unsynced",
    "allocations.provisioning.identity.tasks.directory_lock_person_task",
    "allocations.provisioning.identity.tasks.directory_push_keys_task",
}
REPORTS = {"compliance.tasks.generate_report"}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name, (), {})["queue"].name


@pytest.fixture(scope="module")
def task_names() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_the_named_tasks_are_registered(task_names):
    # a renamed or moved task would fall back to the default queue without a word
    assert SLURM | REPORTS <= task_names


def test_every_task_that_reaches_a_site_goes_to_the_slurm_queue(task_names):
    assert {name: queue_of(name) for name in SLURM} == dict.fromkeys(SLURM, "slurm")
    # and nothing under provisioning is left on another queue
    assert {name for name in task_names if name.startswith("allocations.provisioning.")} == SLURM


def test_reports_go_to_the_reports_queue_and_the_rest_to_default(task_names):
    assert queue_of("compliance.tasks.generate_report") == "reports"
    others = task_names - SLURM - REPORTS
    assert others and {queue_of(name) for name in others} == {"default"}
