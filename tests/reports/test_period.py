"""The period report: rows and totals, filters, query count, PDF content, languages."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from allocations.catalogue.models import Site
from allocations.provisioning.services import sync_allocation
from allocations.review.models import Decision
from compliance.models import ReportStatus
from compliance.reports import data, services
from portal.audit import verify_chain
from tests import factories as builders
from tests.factories import AllocationManagerFactory, EthicsOfficerFactory
from tests.reports.conftest import assert_accessible_pdf, pdftotext

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# decisions + resources + reviewer assignments + ethics conditions + quotas + the chain (events, head).
PERIOD_QUERIES = 9  # with the final reports due and the outputs recorded in the period


def today_filters(**kwargs) -> data.PeriodFilters:
    return data.PeriodFilters(date_from=TODAY, date_to=TODAY, **kwargs)


def generate(run_on_commit, actor, language="en", **params):
    params = {"date_from": TODAY, "date_to": TODAY} | params
    with run_on_commit():
        report = services.report_request_period(actor=actor, language=language, **params)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    return report


@pytest.fixture
def mixed_period(db):
    """One reviewed high-risk approval on both sites, two plain approvals on Zellik, one rejection (late)."""
    full = builders.full_dossier()
    manager = full["manager"]
    plain = builders.decisions(2, manager=manager)
    sync_allocation(allocation_id=plain[0].pk)
    rejected = builders.rejected_decision(manager=manager)
    return {"full": full, "plain": plain, "rejected": rejected, "manager": manager}


def test_rows_totals_and_sla(mixed_period):
    result = data.period_data(today_filters())
    assert result.count == 4
    rows = {row.reference: row for row in result.rows}
    full = rows[mixed_period["full"]["application"].reference]
    assert full.risk_class == "high_risk" and str(full.ethics_label) == "Cleared with conditions"
    assert (full.conditions_total, full.conditions_acknowledged) == (1, 1)
    assert full.reviewers == [builders.REVIEWER_NAME]
    assert full.sla == "met"
    assert full.sites == ["Charleroi", "Zellik"]
    assert full.sync_state == "in_sync" and full.last_sync_outcome == "success"
    late = rows[mixed_period["rejected"].application.reference]
    assert late.outcome == "rejected" and late.sla == "missed" and late.allocation_reference == ""
    unsynced = rows[mixed_period["plain"][1].reference]
    assert unsynced.sync_state == "needs_sync" and unsynced.last_sync_outcome == ""
    assert {t.key: t.count for t in result.by_risk} == {"high_risk": 2, "minimal": 2}
    assert {t.key: t.count for t in result.by_outcome} == {"approved": 3, "rejected": 1}
    assert {t.key: t.count for t in result.by_site} == {"Charleroi": 1, "Zellik": 3}
    assert {t.key: t.gpu_hours for t in result.by_site} == {"Charleroi": 200, "Zellik": 600}
    assert {t.key: t.count for t in result.by_mode} == {"playground": 1, "fast_lane": 3}
    assert [t.key for t in result.by_mode] == ["playground", "fast_lane"]  # the published order
    assert (result.sla_met, result.sla_missed, result.sla_none) == (1, 1, 2)
    assert result.chain.ok


def test_filters_by_site_mode_sector_and_dates(mixed_period):
    assert data.period_data(today_filters(site="charleroi")).count == 1
    assert data.period_data(today_filters(access_mode="playground")).count == 1
    assert data.period_data(today_filters(sector="defence")).count == 1
    Decision.objects.filter(pk=mixed_period["rejected"].pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=40))
    assert data.period_data(today_filters()).count == 3
    earlier = data.PeriodFilters(date_from=TODAY - datetime.timedelta(days=41),
                                 date_to=TODAY - datetime.timedelta(days=1))
    assert [r.outcome for r in data.period_data(earlier).rows] == ["rejected"]


@pytest.mark.parametrize("count", [5, 50])
def test_period_data_runs_a_constant_number_of_queries(count, django_assert_num_queries):
    manager = AllocationManagerFactory()
    allocations = builders.decisions(count, manager=manager)
    for allocation in allocations[::2]:
        sync_allocation(allocation_id=allocation.pk)
    builders.rejected_decision(manager=manager)
    with django_assert_num_queries(PERIOD_QUERIES):
        result = data.period_data(today_filters())
    assert result.count == count + 1


def test_filters_cost_one_query_each():
    builders.decisions(1)
    with CaptureQueriesContext(connection) as queries:
        result = data.period_data(today_filters(site="zellik", access_mode="fast_lane"))
    assert result.count == 1 and (result.site_name, result.access_mode_name) == ("Zellik", "Fast Lane")
    assert len(queries) == PERIOD_QUERIES + 2  # the site's and the mode's display names


def test_period_pdf(mixed_period, run_on_commit):
    officer = EthicsOfficerFactory()
    report = generate(run_on_commit, officer)
    pdf = services.report_file(report.file_name).read_bytes()
    text = pdftotext(pdf)
    assert f"Period report {TODAY.isoformat()} to {TODAY.isoformat()}" in text
    for reference in (mixed_period["full"]["application"].reference, mixed_period["rejected"].application.reference):
        assert reference in text
    assert "Contents" in text and "Totals by risk class" in text and "Totals by access mode" in text
    assert "High-risk AI system" in text and "high_risk" not in text and "Minimal risk" in text
    assert "missed" in text and "Cleared with conditions" in text and builders.REVIEWER_NAME in text
    assert "Decisions in the period 4" in text
    assert "Audit chain verified: VALID" in text
    assert f"Chain head hash: {verify_chain().head_hash}" not in text  # report.generated came after
    assert "Page 1 of" in text
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title.startswith("Period report")
    assert_accessible_pdf(pdf, title=reader.metadata.title, language="en")
    assert [o.title for o in reader.outline[1]][:3] == ["Summary", "Totals by risk class", "Totals by sector"]
    # Repeated table headers: every page of the decisions table starts with its header row.
    assert report.csv_sha256 and services.report_file(report.csv_file_name).is_file()


def test_long_period_report_repeats_table_headers(run_on_commit):
    builders.decisions(45)
    report = generate(run_on_commit, EthicsOfficerFactory())
    pages = pdftotext(services.report_file(report.file_name).read_bytes(), layout=True).split("\f")
    table_pages = [p for p in pages if "AIF-2026-9" in p]
    assert len(table_pages) >= 2
    assert all("Reference" in p and "Provisioning" in p for p in table_pages)


@pytest.mark.parametrize("language, expected", [
    ("fr", ["Rapport de période", "Table des matières", "Résumé", "Totaux par classe de risque",
            "Risque minimal", "Vérification de la chaîne d'audit", "Page 1 sur"]),
    ("nl", ["Periodiek rapport", "Inhoud", "Samenvatting", "Totalen per risicoklasse", "Minimaal risico",
            "Verificatie van de auditketen", "Pagina 1 van"]),
])
def test_period_report_translated(language, expected, run_on_commit):
    builders.decisions(1)
    report = generate(run_on_commit, EthicsOfficerFactory(), language=language, site="zellik")
    text = pdftotext(services.report_file(report.file_name).read_bytes())
    for phrase in expected:
        assert phrase in text, phrase
    assert Site.objects.get(code="zellik").name in text
