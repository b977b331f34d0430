"""Report verification through the API: POST /api/v1/reports/verify/, the service the page calls."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from compliance.models import Report, ReportStatus
from compliance.reports import services as report_services
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def events(action: str):
    return AuditEvent.objects.filter(action=action)


# ------------------------------------------------------------------------------------ report verification

VERIFY = "/api/v1/reports/verify/"
ISSUED = b"%PDF-1.7\n% an issued report\n%%EOF\n"


@pytest.fixture
def issued_report(applicant):
    app = f.draft(applicant)
    return Report.objects.create(kind="dossier", audience="applicant", application=app, requested_by=applicant,
                                 status=ReportStatus.DONE, progress=100, file_name="d.pdf", size=len(ISSUED),
                                 sha256=hashlib.sha256(ISSUED).hexdigest(), finished_at=timezone.now())


def upload(content: bytes, name: str = "report.pdf") -> dict:
    return {"file": SimpleUploadedFile(name, content, "application/pdf")}


def test_verify_an_issued_pdf(as_user, outsider, issued_report):
    """Any signed-in person may verify, as on the page; each verification is audited."""
    response = as_user(outsider).post(VERIFY, upload(ISSUED), format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "valid": True, "sha256": issued_report.sha256,
        "report": {"id": issued_report.pk, "kind": "dossier", "application": issued_report.application.reference,
                   "requested_by": issued_report.requested_by.display_name,
                   "issued_at": response.json()["report"]["issued_at"]}}
    event = events("report.verified").get()
    assert event.actor_id == outsider.pk and event.object_id == str(issued_report.pk)
    assert event.changes == {"sha256": issued_report.sha256, "valid": True, "size": len(ISSUED)}


def test_verify_an_altered_pdf(as_user, applicant, issued_report):
    altered = ISSUED.replace(b"issued", b"edited")
    response = as_user(applicant).post(VERIFY, upload(altered), format="multipart")
    assert response.status_code == 200
    assert response.json() == {"valid": False, "sha256": hashlib.sha256(altered).hexdigest(), "report": None}
    assert events("report.verified").get().changes["valid"] is False


def test_verify_refuses_what_cannot_be_a_report_and_audits_nothing(as_user, applicant, issued_report, monkeypatch):
    client = as_user(applicant)
    not_pdf = client.post(VERIFY, upload(b"PK\x03\x04 a zip file", "report.pdf"), format="multipart")
    assert not_pdf.status_code == 400
    assert not_pdf.json()["error"]["fields"] == {"file": ["Only PDF documents are accepted; this file is not a PDF."]}
    monkeypatch.setattr(report_services, "VERIFY_MAX_BYTES", len(ISSUED) - 1)
    too_big = client.post(VERIFY, upload(ISSUED), format="multipart")
    assert too_big.status_code == 400
    assert too_big.json()["error"]["fields"] == {"file": ["This file is larger than any report the portal issues."]}
    assert "file" in client.post(VERIFY, {}, format="multipart").json()["error"]["fields"]
    assert not events("report.verified").exists()


def test_the_page_refuses_a_non_pdf_the_same_way(client, applicant):
    client.force_login(applicant)
    response = client.post(reverse("compliance:report_verify"), upload(b"plain text"))
    assert response.status_code == 200
    assert "this file is not a PDF" in response.content.decode()
    assert not events("report.verified").exists()


def test_verify_needs_a_staff_second_factor(as_user, issued_report):
    response = as_user(f.EthicsOfficerFactory(totp=False)).post(VERIFY, upload(ISSUED), format="multipart")
    assert response.status_code == 403 and response.json()["error"]["code"] == "mfa_required"
    assert not events("report.verified").exists()
