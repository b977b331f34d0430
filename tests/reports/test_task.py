"""The Celery task: thin, routed to the reports queue, retried, time-limited, and reporting progress."""

import datetime

import pytest
from django.utils import timezone

from compliance import tasks
from compliance.models import Report, ReportStatus
from compliance.reports import render, services
from portal.celery import app as celery_app
from portal.models import AuditEvent
from tests import factories as builders
from tests.factories import queued_period_report

pytestmark = pytest.mark.django_db


def test_task_options_and_route():
    task = tasks.generate_report
    assert task.acks_late is True
    assert task.max_retries == 8 and task.soft_time_limit == 540 and task.time_limit == 600
    # The retries outlast a database restart: the sum of the backoff caps is well over a minute.
    assert sum(min(task.retry_backoff_max, task.retry_backoff * 2 ** n) for n in range(task.max_retries)) > 600
    route = celery_app.amqp.router.route({}, task.name, args=(1,), kwargs={})
    assert route["queue"].name == "reports"


def test_request_queues_the_task_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.generate_report, "apply_async", lambda args, kwargs: queued.extend(args))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = queued_period_report()
        assert queued == []  # nothing before commit
    assert len(callbacks) == 1 and queued == [report.pk]


def test_task_updates_progress_as_it_goes(monkeypatch):
    builders.decisions(3)
    report = queued_period_report()
    assert (report.status, report.progress) == (ReportStatus.QUEUED, 0)
    seen = []

    def spy(name, real):
        def wrapper(*args, **kwargs):
            row = Report.objects.values("status", "progress").get(pk=report.pk)
            seen.append((name, row["status"], row["progress"]))
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(render, "render_html", spy("html", render.render_html))
    monkeypatch.setattr(render, "layout", spy("layout", render.layout))
    monkeypatch.setattr(render, "write_pdf", spy("write", render.write_pdf))
    result = tasks.generate_report.delay(report.pk)  # eager in tests
    assert result.get() == "done"
    assert seen == [("html", "running", 5), ("layout", "running", 30), ("write", "running", 75)]
    report.refresh_from_db()
    assert (report.status, report.progress) == (ReportStatus.DONE, 100)
    assert report.started_at <= report.finished_at
    # Idempotent: running it again changes nothing.
    assert tasks.generate_report.delay(report.pk).get() == "done"
    assert AuditEvent.objects.filter(action="report.generated", object_id=str(report.pk)).count() == 1


def test_a_failure_is_recorded_then_a_retry_succeeds(monkeypatch):
    report = queued_period_report()
    real_layout = render.layout

    def broken(html):
        raise RuntimeError("fonts missing")

    monkeypatch.setattr(render, "layout", broken)
    with pytest.raises(RuntimeError):
        services.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and "fonts missing" in report.error
    assert AuditEvent.objects.filter(action="report.failed", object_id=str(report.pk)).exists()
    monkeypatch.setattr(render, "layout", real_layout)
    assert services.report_generate(report_id=report.pk).status == ReportStatus.DONE


def test_the_url_fetcher_refuses_the_network():
    fetcher = render.url_fetcher()
    for url in ("http://example.org/x.css", "https://cdn.example/font.woff2", "ftp://x/y", "data:text/css,a{}",
                "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    font = next(render.FONT_DIRS[0].glob("DejaVuSans.ttf"))
    response = fetcher.fetch(font.as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"
    response.close()


def test_rendering_does_not_fetch_remote_resources(monkeypatch):
    calls = []
    real = render.LocalFileFetcher.fetch

    def recording(self, url, headers=None):
        calls.append(url)
        return real(self, url, headers)

    monkeypatch.setattr(render.LocalFileFetcher, "fetch", recording)
    pdf = render.html_to_pdf('<html><head><link rel="stylesheet" href="https://cdn.example/x.css"></head>'
                             '<body><img src="http://tracker.example/p.gif"><p>Hi</p></body></html>')
    assert pdf.startswith(b"%PDF-")
    assert calls and all(not url.startswith("file:") for url in calls)  # asked, and refused


def test_requeue_stale(monkeypatch):
    report = queued_period_report()
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    queued = []
    monkeypatch.setattr(tasks.generate_report, "apply_async", lambda args, kwargs: queued.extend(args))
    assert services.report_requeue_stale() == 1 and queued == [report.pk]
