"""Attachments are opened with a PDF parser: damaged, encrypted and active files, and files carrying other
files, are refused with a clear message and nothing is written."""

import io

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from allocations.applications import services
from allocations.applications.models import Attachment
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

REFUSED = {
    **{kind: "PDF documents that contain JavaScript or actions" for kind in f.HOSTILE_PDFS},
    "embedded file": "PDF documents with embedded or attached files are not accepted",
    "file attachment annotation": "PDF documents with embedded or attached files are not accepted",
    "encrypted": "Encrypted or password-protected PDF documents are not accepted",
    "truncated": "This PDF cannot be read: it is damaged or incomplete.",
}


def refused_file(kind: str) -> bytes:
    if kind == "encrypted":
        return f.encrypted_pdf()
    if kind == "truncated":
        return f.truncated_pdf()
    return f.hostile_pdf(kind)


def upload_url(app):
    return reverse("applications:step_attachments", args=[app.reference])


def api_upload_url(app):
    return f"/api/v1/applications/{app.reference}/attachments/"


def stored_files():
    root = settings.PRIVATE_MEDIA_ROOT / "attachments"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def api_client(user) -> APIClient:
    client = APIClient()
    client.credentials(**f.auth(f.token(user)))
    return client


def test_every_hostile_builder_makes_a_well_formed_pdf_apart_from_its_payload():
    """The refusals below are for the payload, not for a broken file."""
    for kind in f.HOSTILE_PDFS:
        assert len(PdfReader(io.BytesIO(f.hostile_pdf(kind))).pages) == 1, kind


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_refused_on_the_page_with_nothing_written(member_client, app_draft, kind):
    events = AuditEvent.objects.count()
    response = member_client.post(upload_url(app_draft), {
        "kind": "project_plan", "file": f.file_upload("plan.pdf", refused_file(kind))})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page and REFUSED[kind] in page
    assert not Attachment.objects.exists() and stored_files() == []
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_refused_through_the_api_with_nothing_written(applicant, kind):
    app = f.draft(applicant)
    response = api_client(applicant).post(api_upload_url(app), {
        "kind": "other", "file": f.file_upload("plan.pdf", refused_file(kind))}, format="multipart")
    assert response.status_code == 400
    assert REFUSED[kind] in response.json()["error"]["fields"]["file"][0]
    assert not Attachment.objects.exists() and stored_files() == []


def test_a_pdf_under_another_name_is_stored_and_served_as_pdf(member_client, member, app_draft):
    content = f.pdf_bytes()
    response = member_client.post(upload_url(app_draft), {
        "kind": "other", "file": f.file_upload("minutes.html", content, content_type="text/html")})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == "minutes.html"  # shown as uploaded
    assert attachment.stored_name.endswith(".pdf") and stored_files() == [attachment.stored_name]
    assert "minutes.html" in member_client.get(upload_url(app_draft)).content.decode()
    download = member_client.get(reverse("applications:attachment_download",
                                         args=[app_draft.reference, attachment.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="minutes.html.pdf"'
    assert b"".join(download.streaming_content) == content


def test_service_refuses_hostile_files_too(member, app_draft):
    """Whatever the caller (page, API, a script), the service itself opens the file."""
    for kind in sorted(REFUSED):
        with pytest.raises(ValidationError) as refusal:
            services.attachment_add(actor=member, application=app_draft, kind="other",
                                    upload=f.file_upload("x.pdf", refused_file(kind)))
        assert REFUSED[kind] in str(refusal.value), kind
    assert not Attachment.objects.exists() and stored_files() == []
