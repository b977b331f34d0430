"""Request bodies over UPLOAD_MAX_BODY_BYTES are refused before any of their bytes are read.

Django reads a multipart body as soon as anything asks for request.POST or request.FILES, and writes
every file above FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file on the way. The attachment's own size
check comes after that, so without this a 200 MB body is read and written in full only to be refused.

Two guards, one limit:
- RequestBodyLimitMiddleware answers 413 from the declared Content-Length, before the CSRF middleware
  (which reads a form's fields, and so parses the upload, to find its token) and before any view;
- BodyLimitUploadHandler, first of FILE_UPLOAD_HANDLERS, stops the multipart parser itself when the
  declared length, or the bytes actually received, pass the limit: the guard for a request that reaches
  the parser without the middleware's check (a body without Content-Length behind another server).

The limit leaves room over ATTACHMENT_MAX_BYTES for the form's other fields and the multipart framing,
so that a file a little over the attachment limit still gets the form's own message. The reverse
proxy should refuse bigger bodies first (docs/deploy.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from portal.api.errors import error_body

API_PREFIX = "/api/"


def body_limit() -> int:
    return settings.UPLOAD_MAX_BODY_BYTES


def declared_length(meta) -> int:
    """The Content-Length as Django reads it (an absent or malformed one is an empty body)."""
    try:
        return max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def too_large_message() -> str:
    return _("The upload is too large: a file may be at most %(mb)s MB.") % {
        "mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}


class RequestTooLarge(RequestDataTooBig):
    """Raised by the upload handler; Django answers it with 400, like every over-sized body."""


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if declared_length(request.META) > body_limit():
            return too_large_response(request)
        return self.get_response(request)


def too_large_response(request) -> HttpResponse:
    message = too_large_message()
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse(error_body("request_too_large", message), status=413)
    return HttpResponse(render_to_string("portal/request_too_large.html", {"message": message}), status=413)


class BodyLimitUploadHandler(FileUploadHandler):
    received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > body_limit():
            raise RequestTooLarge(too_large_message())
        self.received = 0
        return None  # let the next handlers parse the body

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > body_limit():
            raise RequestTooLarge(too_large_message())
        return raw_data

    def file_complete(self, file_size):
        return None
