"""The CSV export of a period report: same rows as the PDF, no formula injection."""

import csv
import io

import pytest
from django.utils import timezone

from compliance.reports import csv_export, data, services
from tests import factories as builders
from tests.factories import AllocationManagerFactory, EthicsOfficerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"),
    ("+32 2 123", "'+32 2 123"),
    ("-1+1", "'-1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTAB", "'\tTAB"),
    ("\rCR", "'\rCR"),
    ("Plain name", "Plain name"),
    ("", ""),
    (None, ""),
    (42, "42"),
])
def test_neutralise(value, expected):
    assert csv_export.neutralise(value) == expected


def test_period_csv_neutralises_injected_cells(run_on_commit):
    manager = AllocationManagerFactory(full_name="=cmd|' /C calc'!A0")
    builders.decisions(2, manager=manager)
    rejected = builders.rejected_decision(manager=manager, reasons="whatever")
    today = timezone.localdate()
    payload = data.period_data(data.PeriodFilters(date_from=today, date_to=today))
    content = csv_export.period_csv(payload)
    assert content.startswith("\ufeff".encode())  # BOM: spreadsheets pick UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Reference", "Title", "Organisation"]
    assert len(body) == 3
    by_ref = {row[0]: row for row in body}
    row = by_ref[rejected.application.reference]
    assert row[header.index("Title")] == "'=HYPERLINK(\"http://evil.example\")"
    assert all(r[header.index("Decided by")] == "'=cmd|' /C calc'!A0" for r in body)
    for cell in (c for r in body for c in r):
        assert not cell.startswith(csv_export.FORMULA_PREFIXES), cell
    assert row[header.index("SLA")] == "missed"
    assert row[header.index("Risk class")] == "High-risk AI system"
    assert "high_risk" not in content.decode("utf-8-sig")  # labels, never the codes


def test_csv_is_stored_with_the_report(run_on_commit):
    builders.decisions(1)
    today = timezone.localdate()
    with run_on_commit():
        report = services.report_request_period(actor=EthicsOfficerFactory(), date_from=today, date_to=today,
                                                language="fr")
    report.refresh_from_db()
    content = services.report_file(report.csv_file_name).read_bytes()
    assert services.sha256_hex(content) == report.csv_sha256
    assert content.decode("utf-8-sig").startswith("Référence,Titre,Organisation")
