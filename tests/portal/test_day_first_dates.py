"""A date a person types follows the portal's language, day first, never the browser's order: the field is
a text input written and read by the portal (portal.forms.DayFirstDateField), with the format as help."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.utils import translation

from portal.forms import DayFirstDateField, DayFirstDateInput


class When(forms.Form):
    day = DayFirstDateField(label="Day", help_text="The first day you need the compute.")


YEAR = datetime.date.today().year


@pytest.mark.parametrize("language, shown, hint", [
    ("en", "04/03/2026", f"Day, month, year: dd/mm/yyyy, for example 20/10/{YEAR}."),
    ("fr", "04/03/2026", None),
    ("nl", "04-03-2026", None),
])
def test_a_stored_date_is_shown_day_first_with_the_format_as_help(language, shown, hint):
    with translation.override(language):
        html = str(When(initial={"day": datetime.date(2026, 3, 4)})["day"])
        help_text = str(When()["day"].help_text)
    assert 'type="text"' in html and f'value="{shown}"' in html and 'type="date"' not in html
    assert help_text.startswith("The first day you need the compute. ")  # the field's own help, then the format
    if hint:
        assert help_text.endswith(hint)
    assert f"20{shown[2]}10{shown[2]}{YEAR}" in help_text  # the example in the language's own format


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
def test_the_languages_formats_and_iso_are_accepted_day_first(language, typed, expected):
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
    assert f"20{'-' if language == 'nl' else '/'}10{'-' if language == 'nl' else '/'}{YEAR}" in error
    assert 'value="' in html and "<script>" not in html  # what was typed comes back, escaped


def test_the_widget_keeps_its_attributes():
    html = DayFirstDateInput(attrs={"class": "wide"}).render("d", datetime.date(2026, 12, 1))
    assert 'class="wide"' in html and 'autocomplete="off"' in html and 'value="01/12/2026"' in html
