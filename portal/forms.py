"""Form and message helpers shared by every app's pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

YES_NO = [("no", _("No")), ("yes", _("Yes"))]
ANY = pgettext_lazy("list filter", "Any")


def with_any(pairs):
    """Choices for a list filter: "Any" first (no filter), then the given pairs."""
    return [("", ANY), *pairs]


def apply_validation_error(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to a bound form, field by field when it names fields.

    A form whose fields are named otherwise than the service's says where each goes with a
    ``field_for_service_error(name)`` method (None: above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            if hasattr(form, "field_for_service_error"):
                field = form.field_for_service_error(field)
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def run_service(form, call) -> bool:
    """Call the service; on a ValidationError attach it to the form and report failure."""
    try:
        call()
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return False
    return True


def run_with_message(request, call, success: str) -> bool:
    """Call the service for a page without a form: a ValidationError becomes an error message,
    success the ``success`` message. Reports whether the call went through."""
    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, success)
    return True
