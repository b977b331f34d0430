"""Every task's own time limits are consistent with the global soft limit (Celery refuses the call otherwise)."""

from django.conf import settings

from portal.celery import app


def test_every_task_has_a_soft_limit_within_its_hard_limit():
    app.loader.import_default_modules()
    checked = 0
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft <= hard, f"{name}: soft_time_limit {soft} > time_limit {hard}"
        checked += 1
    assert checked >= 8
