"""A date a person types follows the portal's language, never the browser's order and never month first: the
field is a text input written and read by the portal (portal.forms.LocalDateField), with the format as help
(English as the portal writes short dates, ISO 8601; French and Dutch day first)."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.utils import translation

from portal.forms import LocalDateField, LocalDateInput


class When(forms.Form):
    day = LocalDateField(label="Day", help_text="The first day you need the compute.")


YEAR = datetime.date.today().year


EXAMPLE = {"en": f"{YEAR}-10-20", "fr": f"20/10/{YEAR}", "nl": f"20-10-{YEAR}"}


@pytest.mark.parametrize("language, shown, hint", [
    ("en", "2026-03-04", f"Format: yyyy-mm-dd, for example {YEAR}-10-20."),
    ("fr", "04/03/2026", None),
    ("nl", "04-03-2026", None),
])
def test_a_stored_date_is_shown_in_the_languages_format_with_it_as_help(language, shown, hint):
    with translation.override(language):
        html = str(When(initial={"day": datetime.date(2026, 3, 4)})["day"])
        help_text = str(When()["day"].help_text)
    assert 'type="text"' in html and f'value="{shown}"' in html and 'type="date"' not in html
    assert help_text.startswith("The first day you need the compute. ")  # the field's own help, then the format
    if hint:
        assert help_text.endswith(hint)
    assert EXAMPLE[language] in help_text  # the example in the language's own format


@pytest.mark.parametrize("language, typed, expected", [
    ("en", "04/03/2026", datetime.date(2026, 3, 4)),
    ("en", "2026-03-04", datetime.date(2026, 3, 4)),
    ("en", "4 March 2026", datetime.date(2026, 3, 4)),
    ("fr", "04/03/2026", datetime.date(2026, 3, 4)),
    ("fr", "2026-03-04", datetime.date(2026, 3, 4)),
    ("nl", "04-03-2026", datetime.date(2026, 3, 4)),
    ("nl", "04/03/2026", datetime.date(2026, 3, 4)),
    ("nl", "2026-03-04", datetime.date(2026, 3, 4)),
])
def test_the_languages_formats_and_iso_are_accepted_never_month_first(language, typed, expected):
    with translation.override(language):
        form = When(data={"day": typed})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == expected


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
@pytest.mark.parametrize("typed", ["03/31/2026", "31/02/2026", "next Tuesday", "2026-13-01", "<script>"])
def test_a_month_first_or_impossible_date_is_refused_with_the_format_in_the_error(language, typed):
    with translation.override(language):
        form = When(data={"day": typed})
        assert not form.is_valid()
        error = form.errors["day"][0]
        html = str(form["day"])
    assert EXAMPLE[language] in error
    assert 'value="' in html and "<script>" not in html  # what was typed comes back, escaped


def test_the_widget_keeps_its_attributes():
    with translation.override("fr"):
        html = LocalDateInput(attrs={"class": "wide"}).render("d", datetime.date(2026, 12, 1))
    assert 'class="wide"' in html and 'autocomplete="off"' in html and 'value="01/12/2026"' in html
