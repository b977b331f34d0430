"""A request body over UPLOAD_MAX_BODY_BYTES is refused before any of it is read: no temporary file, no
row, no stored file (portal/uploads.py)."""

import pytest
from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from allocations.applications.models import Attachment
from tests import factories as f

pytestmark = pytest.mark.django_db


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


BOUNDARY = "limit-test-boundary"


class HugeBody:
    """A multipart body (kind, and one file) of `size` bytes, made as it is read; counts what is read."""

    def __init__(self, size: int):
        self.head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
                     f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="huge.pdf"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.position = 0

    def _bytes(self, start: int, end: int) -> bytes:
        filler_end = self.size - len(self.tail)
        out = bytearray()
        if start < len(self.head):
            out += self.head[start:min(end, len(self.head))]
        if end > len(self.head) and start < filler_end:
            out += b"\0" * (min(end, filler_end) - max(start, len(self.head)))
        if end > filler_end:
            out += self.tail[max(0, start - filler_end):end - filler_end]
        return bytes(out)

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.position + n)
        data = self._bytes(self.position, end)
        self.position = end
        return data

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)


def huge_request(size: int) -> dict:
    """The body, and the arguments of client.generic() that send it (Django's client takes the content
    type from CONTENT_TYPE when it sends no data of its own, the API client from content_type)."""
    body = HugeBody(size)
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    return {"body": body, "extra": {"wsgi.input": body, "CONTENT_LENGTH": str(size), "CONTENT_TYPE": content_type,
                                    "content_type": content_type}}


@pytest.fixture
def files_opened(monkeypatch):
    """Every file the upload handlers start (in memory or in a temporary file)."""
    opened = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.new_file

        def spy(self, *args, _original=original, **kwargs):
            opened.append(type(self).__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(handler, "new_file", spy)
    return opened


MB_200 = 200 * 1024 * 1024


def test_a_200_mb_upload_page_request_is_refused_unread(member, app_draft, files_opened):
    client = Client(enforce_csrf_checks=True)  # as in production: the CSRF check reads the form's fields
    client.force_login(member)
    request = huge_request(MB_200)
    response = client.generic("POST", upload_url(app_draft), **request["extra"])
    assert response.status_code == 413
    page = response.content.decode()
    assert "The upload is too large: a file may be at most 20 MB." in page and "Nothing was saved." in page
    assert request["body"].position == 0  # not one byte read
    assert files_opened == [] and not Attachment.objects.exists() and stored_files() == []


def test_a_200_mb_api_upload_is_refused_unread(applicant, files_opened):
    app = f.draft(applicant)
    request = huge_request(MB_200)
    response = api_client(applicant).generic("POST", api_upload_url(app), **request["extra"])
    assert response.status_code == 413
    assert response.json()["error"] == {"code": "request_too_large", "fields": {},
                                        "message": "The upload is too large: a file may be at most 20 MB."}
    assert request["body"].position == 0
    assert files_opened == [] and not Attachment.objects.exists() and stored_files() == []


def test_the_limit_leaves_room_for_the_form_around_a_file_at_the_attachment_limit():
    assert settings.UPLOAD_MAX_BODY_BYTES == settings.ATTACHMENT_MAX_BYTES + 1024 * 1024


WITHOUT_BODY_MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "portal.uploads.RequestBodyLimitMiddleware"]


@override_settings(MIDDLEWARE=WITHOUT_BODY_MIDDLEWARE)
def test_the_upload_handler_refuses_the_body_when_the_parser_is_reached(member_client, applicant, app_draft,
                                                                         files_opened):
    """The second guard: the multipart parser itself stops before reading a body over the limit."""
    request = huge_request(MB_200)
    response = member_client.generic("POST", upload_url(app_draft), **request["extra"])
    assert response.status_code == 400
    api_request = huge_request(MB_200)
    app = f.draft(applicant)
    api_response = api_client(applicant).generic("POST", api_upload_url(app), **api_request["extra"])
    assert api_response.status_code == 413 and api_response.json()["error"]["code"] == "request_too_large"
    assert request["body"].position == api_request["body"].position == 0
    assert files_opened == [] and not Attachment.objects.exists() and stored_files() == []
