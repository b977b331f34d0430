"""Reports through the API: request (202), poll, download; the same rules as the report pages."""

import datetime

import pytest
from django.utils import timezone

from compliance.models import Report, ReportStatus
from tests import factories as f

pytestmark = pytest.mark.django_db


def period(client, **extra):
    today = timezone.localdate()
    body = {"date_from": (today - datetime.timedelta(days=30)).isoformat(), "date_to": today.isoformat(), **extra}
    return client.post("/api/v1/staff/reports/", body, format="json")


def test_period_report_request_poll_and_download(as_user, run_on_commit):
    client = as_user(f.EthicsOfficerFactory(totp=True))
    with run_on_commit():
        response = period(client, language="fr")
    assert response.status_code == 202, response.json()
    report_id = response.json()["id"]
    assert response.json()["status"] == ReportStatus.QUEUED and response.json()["language"] == "fr"
    polled = client.get(f"/api/v1/staff/reports/{report_id}/")
    assert polled["Cache-Control"] == "no-store"
    body = polled.json()
    assert body["status"] == ReportStatus.DONE, body
    assert body["finished"] and body["download_available"] and len(body["sha256"]) == 64
    pdf = client.get(f"/api/v1/staff/reports/{report_id}/download/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert client.get(f"/api/v1/staff/reports/{report_id}/csv/").status_code == 200
    assert [r["id"] for r in client.get("/api/v1/staff/reports/?kind=period").json()["results"]] == [report_id]


def test_period_report_rules(as_user):
    officer = as_user(f.EthicsOfficerFactory(totp=True))
    backwards = period(officer, date_from="2026-12-31", date_to="2026-01-01")
    assert backwards.status_code == 400 and "date_to" in backwards.json()["error"]["fields"]
    assert period(officer, site="mars").json()["error"]["fields"]["site"]
    manager = as_user(f.manager())
    assert manager.get("/api/v1/staff/reports/").status_code == 200
    assert period(manager).status_code == 403
    assert as_user(f.applicant()).get("/api/v1/staff/reports/").status_code == 403
    assert as_user(f.reviewer()).get("/api/v1/staff/reports/").status_code == 403
    assert not Report.objects.exists()


def test_download_is_404_until_done(as_user):
    client = as_user(f.EthicsOfficerFactory(totp=True))
    report_id = period(client).json()["id"]  # the test transaction never commits: the report stays queued
    assert client.get(f"/api/v1/staff/reports/{report_id}/").json()["download_available"] is False
    assert client.get(f"/api/v1/staff/reports/{report_id}/download/").status_code == 404


def test_applicant_dossier_is_scoped_to_the_organisation(as_user, applicant, outsider, boss):
    app = f.draft(applicant)
    mine = as_user(applicant)
    response = mine.post(f"/api/v1/applications/{app.reference}/dossier/", {"language": "nl"}, format="json")
    assert response.status_code == 202 and response.json()["audience"] == "applicant"
    report_id = response.json()["id"]
    assert [r["id"] for r in mine.get("/api/v1/reports/").json()["results"]] == [report_id]
    assert mine.get(f"/api/v1/reports/{report_id}/").status_code == 200
    other = as_user(outsider)
    assert other.post(f"/api/v1/applications/{app.reference}/dossier/", {}, format="json").status_code == 404
    assert other.get(f"/api/v1/reports/{report_id}/").status_code == 404
    assert other.get("/api/v1/reports/").json()["count"] == 0
    # The staff dossier is another report, for staff only, of submitted applications only.
    assert as_user(boss).post(f"/api/v1/staff/applications/{app.reference}/dossier/", {},
                              format="json").status_code == 404
    f.mark_submitted(app)
    staff = as_user(boss).post(f"/api/v1/staff/applications/{app.reference}/dossier/", {}, format="json")
    assert staff.status_code == 202 and staff.json()["audience"] == "staff"
    assert mine.get(f"/api/v1/reports/{staff.json()['id']}/").status_code == 404
    assert mine.post(f"/api/v1/staff/applications/{app.reference}/dossier/", {}, format="json").status_code == 403
