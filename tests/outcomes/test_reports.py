"""Final reports and outputs in the period report's totals, its CSV and the dossier."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from allocations.outcomes.models import FinalReportStatus
from compliance.models import ReportAudience
from compliance.reports import csv_export, data
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_period_totals_count_reports_due_received_overdue_and_outputs_by_kind():
    today = timezone.localdate()
    overdue = f.final_report(due=today - datetime.timedelta(days=2))
    received = f.final_report(status=FinalReportStatus.ACCEPTED, due=today - datetime.timedelta(days=3))
    f.final_report(due=today + datetime.timedelta(days=40))  # outside the period
    f.output(overdue.allocation, kind="publication")
    f.output(overdue.allocation, kind="model")
    f.output(received.allocation, kind="model")
    filters = data.PeriodFilters(date_from=today - datetime.timedelta(days=30), date_to=today)
    totals = data.period_outcomes(filters)
    assert (totals["reports_due"], totals["reports_received"], totals["reports_overdue"]) == (2, 1, 1)
    assert [(t.key, t.count) for t in totals["outputs_by_kind"]] == [("publication", 1), ("model", 2)]
    assert str(totals["outputs_by_kind"][1].label) == "Released model"
    other_mode = data.PeriodFilters(date_from=filters.date_from, date_to=today, access_mode="playground")
    assert data.period_outcomes(other_mode)["reports_due"] == 0


def test_csv_rows_carry_the_final_report_and_the_outputs(run_on_commit):
    decision = f.decisions(1)[0]
    alloc = decision.application.allocation
    f.final_report(alloc, status=FinalReportStatus.SUBMITTED)
    f.output(alloc, kind="dataset")
    today = timezone.localdate()
    content = csv_export.period_csv(data.period_data(data.PeriodFilters(date_from=today, date_to=today)))
    header, row = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[:2]
    assert row[header.index("Final report")] == "Submitted"
    assert row[header.index("Outputs")] == "1"


def test_dossier_holds_the_final_report_and_outputs():
    report = f.final_report(status=FinalReportStatus.ACCEPTED, review_comment="Thorough.")
    f.output(report.allocation, kind="publication")
    dossier = data.dossier_data(report.allocation.application_id, audience=ReportAudience.APPLICANT)
    assert dossier.final_report == report
    assert [o.kind for o in dossier.outputs] == ["publication"]
