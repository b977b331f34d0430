"""Verification: `manage.py verify_report` and /reports/verify/ accept an issued PDF, refuse any other."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from compliance.models import ReportAudience
from compliance.reports import services
from portal.audit import events_for
from portal.models import AuditEvent
from tests import factories as builders
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(run_on_commit, tmp_path):
    built = builders.full_dossier(provision=False)
    with run_on_commit():
        report = services.report_request_dossier(actor=built["applicant"], application=built["application"],
                                                 audience=ReportAudience.APPLICANT, language="en")
    report.refresh_from_db()
    path = tmp_path / "dossier.pdf"
    path.write_bytes(services.report_file(report.file_name).read_bytes())
    return report, path


def test_command_accepts_an_issued_pdf(issued, capsys):
    report, path = issued
    call_command("verify_report", str(path))
    out = capsys.readouterr().out
    assert out.startswith("VALID: issued by the portal on ")
    assert f"(report #{report.pk}," in out
    event = AuditEvent.objects.filter(action="report.verified").latest("seq")
    assert event.changes == {"sha256": report.sha256, "valid": True, "size": report.size}
    assert event in events_for(report)


def test_command_rejects_a_modified_pdf(issued, tmp_path):
    report, path = issued
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01  # flip one bit of one byte
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(bytes(content))
    with pytest.raises(CommandError, match="NOT ISSUED or ALTERED"):
        call_command("verify_report", str(altered))
    assert AuditEvent.objects.filter(action="report.verified", changes__valid=False).count() == 1


def test_command_rejects_an_unknown_pdf(tmp_path):
    unknown = tmp_path / "unknown.pdf"
    unknown.write_bytes(b"%PDF-1.7\n% not from the portal\n%%EOF\n")
    with pytest.raises(CommandError, match="NOT ISSUED or ALTERED"):
        call_command("verify_report", str(unknown))


def test_command_exit_status(tmp_path):
    """manage.py turns a CommandError into exit status `returncode` (1) with its message on stderr."""
    (tmp_path / "other.pdf").write_bytes(b"%PDF-1.4 other")
    for name in ("other.pdf", "missing.pdf"):
        with pytest.raises(CommandError) as excinfo:
            call_command("verify_report", str(tmp_path / name))
        assert excinfo.value.returncode == 1


def test_verify_page_for_signed_in_users(issued, client):
    report, path = issued
    url = reverse("compliance:report_verify")
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(UserFactory())
    response = client.post(url, {"file": SimpleUploadedFile("x.pdf", path.read_bytes(), "application/pdf")})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Valid: issued by the portal, unaltered" in body
    assert f"#{report.pk}" in body and "Application dossier" in body and "Ada Applicant" in body
    content = bytearray(path.read_bytes())
    content[-10] ^= 0xFF
    response = client.post(url, {"file": SimpleUploadedFile("x.pdf", bytes(content), "application/pdf")})
    assert "Not issued by the portal, or altered" in response.content.decode()
