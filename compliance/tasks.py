"""Celery tasks: thin wrappers that re-read rows by id and call the report services.

Routed to the "reports" queue by CELERY_TASK_ROUTES ('compliance.tasks.generate_*')."""

from celery import shared_task
from django.db import DatabaseError

from .reports.services import report_generate, report_requeue_stale

# Named explicitly (the names their module path gave them): the beat schedule, CELERY_TASK_ROUTES and
# the report services (portal.tasking.enqueue) refer to these tasks by name.

# Retries span a database restart or failover (countdowns 5, 10, 20 ... 300 s, jittered: up to about
# 15 min in all). With 3 retries a 45 s PostgreSQL outage exhausted them while the database was still
# down, so nothing could record the failure and the report page showed "being generated" until the
# stale-report sweeper, up to 25 min later (docs/reliability.md, drill 5).
@shared_task(name="compliance.tasks.generate_report", bind=True, acks_late=True,
             autoretry_for=(DatabaseError, OSError), retry_backoff=5, retry_backoff_max=300, retry_jitter=True,
             max_retries=8, soft_time_limit=540, time_limit=600)
def generate_report(self, report_id: int) -> str:
    """Render one report; the service stores progress on the row as it goes (polled by the report page)."""
    report = report_generate(report_id=report_id)
    return report.status if report is not None else "missing"


@shared_task(name="compliance.tasks.requeue_stale_reports", acks_late=True, soft_time_limit=100, time_limit=120)
def requeue_stale_reports() -> int:
    return report_requeue_stale()
