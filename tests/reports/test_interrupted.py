"""An interrupted generation leaves no file behind once the report is done (docs/reliability.md, drill 5).

An attempt that wrote its PDF and CSV and then lost the database before recording them (or was killed
there) left them in the reports folder for ever: never served, never verifiable, never deleted."""

import pytest
from django.db import OperationalError

from compliance.models import ReportStatus
from compliance.reports import services
from portal import workflow
from portal.models import AuditEvent
from tests.factories import queued_period_report

pytestmark = pytest.mark.django_db


def test_files_of_an_attempt_that_lost_the_database_are_removed_by_the_attempt_that_finishes(
        monkeypatch, private_reports):
    report = queued_period_report()
    other = queued_period_report()
    private_reports.mkdir(parents=True, exist_ok=True)
    foreign = private_reports / f"report-{other.pk}-0123456789ab.pdf"
    foreign.write_bytes(b"%PDF-1.7 another report")
    real_audit = workflow.audit_record  # the report is recorded done through the transition engine

    def database_lost(**kwargs):
        if kwargs["action"] == "report.generated":
            raise OperationalError("the connection is lost")
        return real_audit(**kwargs)

    monkeypatch.setattr(workflow, "audit_record", database_lost)
    with pytest.raises(OperationalError):
        services.report_generate(report_id=report.pk)
    left = sorted(p.name for p in private_reports.glob(f"report-{report.pk}-*"))
    assert len(left) == 2, left  # the interrupted attempt's PDF and CSV, recorded nowhere
    (private_reports / f".report-{report.pk}-fedcba987654.pdf.tmp").write_bytes(b"%PDF-1.7 half")
    report.refresh_from_db()
    assert report.status == ReportStatus.RUNNING and not report.file_name

    monkeypatch.setattr(workflow, "audit_record", real_audit)  # the retry
    done = services.report_generate(report_id=report.pk)

    assert done.status == ReportStatus.DONE
    on_disk = sorted(p.name for p in private_reports.iterdir() if p.name.lstrip(".").startswith(f"report-{report.pk}-"))
    assert on_disk == sorted([done.file_name, done.csv_file_name])
    assert services.report_verify(actor=None, content=(private_reports / done.file_name).read_bytes()).valid
    assert foreign.exists()  # another report's file is not touched
    assert AuditEvent.objects.filter(action="report.generated", object_id=str(report.pk)).count() == 1
