"""One error shape for every API error, and the exception handler that produces it.

    {"error": {"code": "validation_error", "message": "...", "fields": {"title": ["..."]}}}

``code`` is stable and meant for programs; ``message`` is for people (in the request's language);
``fields`` maps input fields to their messages (``non_field_errors`` for the rest). Services raise
Django's ValidationError and PermissionDenied: they become 400 and 403 here, so the API and the HTML
pages report the same rules with the same words. A TransitionError (portal.workflow: a status change the
workflow table does not allow from the current status) is a 409."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from portal.workflow import TransitionError

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the object's current state."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


class ServiceValidationError(exceptions.ValidationError):
    """A Django ValidationError from a service, with extra structured data (e.g. submission problems)."""

    def __init__(self, detail, code=None, extra: dict | None = None):
        super().__init__(detail, code)
        self.extra = extra or {}


def _django_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        out: dict[str, list[str]] = {}
        for field, errors in exc.error_dict.items():
            key = NON_FIELD if field in (None, "__all__") else field
            out.setdefault(key, []).extend(m for e in errors for m in e.messages)
        return out
    return {NON_FIELD: list(exc.messages)}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"resources.0.site": ["message", ...]}."""
    out: dict[str, list[str]] = {}

    def add(key: str, messages) -> None:
        out.setdefault(key or NON_FIELD, []).extend(str(m) for m in messages)

    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key not in (NON_FIELD, "__all__") else ""
            for k, v in _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix)).items():
                add(k, v)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            for k, v in _flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                add(k, v)
    else:
        add(prefix, detail if isinstance(detail, list) else [detail])
    return out


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "validation_error"
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


def to_api_exception(exc: Exception) -> Exception:
    """Django's exceptions from services and selectors -> DRF's, keeping the messages."""
    if isinstance(exc, TransitionError):
        return Conflict(" ".join(exc.messages))
    if isinstance(exc, DjangoValidationError):
        return ServiceValidationError(_django_fields(exc), extra=getattr(exc, "api_extra", None))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or exceptions.PermissionDenied.default_detail)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE or UPLOAD_MAX_BODY_BYTES
        return RequestTooLarge(str(exc) or RequestTooLarge.default_detail)
    return exc


def api_exception_handler(exc, context):
    exc = to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: let Django report it
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        messages = [m for values in fields.values() for m in values]
        message = messages[0] if len(messages) == 1 else _("The request has %(n)s errors; see fields.") % {
            "n": len(messages)}
        extra = getattr(exc, "extra", {}) or {}
        response.data = error_body("validation_error", message, fields, **extra)
    else:
        response.data = error_body(_code(exc), exc.detail if isinstance(exc.detail, str) else str(exc.detail))
    return response


def not_found(request, *args, **kwargs):
    """JSON 404 for any path under /api/ that matches no endpoint (never Django's HTML page)."""
    from django.http import JsonResponse

    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


# --------------------------------------------------------------------------------------- schema

class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable code, e.g. validation_error, not_found, "
                                           "permission_denied, mfa_required, insufficient_scope, "
                                           "not_authenticated, authentication_failed, conflict, throttled, "
                                           "request_too_large.")
    message = serializers.CharField(help_text="A sentence for people, in the request's language.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Messages per input field; non_field_errors for the rest.")
    problems = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()), required=False,
        help_text="Submission only: every reason the application cannot be submitted yet "
                  "({step, field, message}).")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
