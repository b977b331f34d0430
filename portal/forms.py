"""Form and message helpers shared by every app's pages."""

from __future__ import annotations

import datetime
import functools

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

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


# --------------------------------------------------------------------------------- dates a person types

def local_date_format() -> str:
    """The active language's numeric date format for typing, its first input format: never month first
    (en "%Y-%m-%d" as the portal writes short dates in English, fr "%d/%m/%Y", nl "%d-%m-%Y")."""
    return next((f for f in get_format("DATE_INPUT_FORMATS")
                 if f.replace("-", "/").replace(".", "/") in ("%d/%m/%Y", "%Y/%m/%d")), "%Y-%m-%d")


def _example(date_format: str | None = None) -> str:
    return datetime.date(timezone.localdate().year, 10, 20).strftime(date_format or local_date_format())


def date_hint(date_format: str | None = None) -> str:
    """How to write a date, in the active language: "Format: yyyy-mm-dd, for example 2026-10-20". By default in
    the language's own format; ``date_format`` fixes it (ISO for a list filter, whose URL means one day in
    every language). Written once per language, format and year: a list's filters show it on every load."""
    return _date_hint(get_language(), date_format or local_date_format(), timezone.localdate().year)


@functools.lru_cache(maxsize=64)
def _date_hint(language: str, date_format: str, year: int) -> str:  # the language and year key the cache
    pattern = (date_format.replace("%d", pgettext("date pattern", "dd"))
               .replace("%m", pgettext("date pattern", "mm")).replace("%Y", pgettext("date pattern", "yyyy")))
    return gettext("Format: %(pattern)s, for example %(example)s.") % {"pattern": pattern,
                                                                       "example": _example(date_format)}


def _invalid_date() -> str:
    return gettext("Enter a real date, for example %(example)s.") % {"example": _example()}


class LocalDateInput(forms.DateInput):
    """A date typed as text, shown in the active language's format (never month first).

    A browser's own date input (``type="date"``) shows the order of the browser's locale, month first in a
    US-English browser, whatever the portal's language: the portal writes and reads dates itself instead."""

    input_type = "text"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", "class": "date-input", "size": 12,
                                **(attrs or {})}, format=format)

    def format_value(self, value):
        if isinstance(value, datetime.date):
            return value.strftime(self.format or local_date_format())
        return super().format_value(value) if value not in (None, "") else None


class LocalDateField(forms.DateField):
    """A date a person types: in the active language's format, the language's other formats (day before
    month) and ISO 8601 (2026-10-20) accepted, with the format as help text and an error that shows it."""

    widget = LocalDateInput

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_messages["invalid"] = lazy(_invalid_date, str)()
        own = self.help_text
        self.help_text = lazy(lambda: f"{own} {date_hint()}" if own else date_hint(), str)()
