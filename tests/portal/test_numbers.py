"""Large quantities and dates as people read them, in each language."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.utils import formats, translation

from portal.numbers import scientific


@pytest.mark.parametrize(("language", "value", "shown"), [
    ("en", 2.94e21, "2.9 × 10²¹\u00a0FLOP"), ("fr", 2.94e21, "2,9 × 10²¹\u00a0FLOP"),
    ("nl", 2.94e21, "2,9 × 10²¹\u00a0FLOP"), ("en", 9.96e22, "1 × 10²³\u00a0FLOP"),
    ("en", 5.5e-5, "5.5 × 10⁻⁵\u00a0FLOP"), ("en", 123456, "123,456\u00a0FLOP"),
    ("fr", 123456, "123\u00a0456\u00a0FLOP"), ("en", 0, "0\u00a0FLOP"), ("en", None, "—"),
])
def test_flop_figures_read_as_powers_of_ten(language, value, shown):
    with translation.override(language):
        assert scientific(value, "FLOP") == shown


@pytest.mark.parametrize(("language", "long", "short"), [
    ("en", "20 October 2026", "2026-10-20"), ("fr", "20 octobre 2026", "20/10/2026"),
    ("nl", "20 oktober 2026", "20-10-2026"),
])
def test_dates_put_the_day_before_the_month(language, long, short):
    day = datetime.date(2026, 10, 20)
    with translation.override(language):
        assert formats.date_format(day, "DATE_FORMAT") == long
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == short


@pytest.mark.parametrize(("language", "shown"), [("en", "7,000,000"), ("fr", "7\u00a0000\u00a0000"),
                                                 ("nl", "7.000.000")])
def test_numbers_are_grouped_by_thousands_and_years_are_not(language, shown):
    with translation.override(language):
        assert Template("{{ n }}").render(Context({"n": 7_000_000})) == shown
        assert Template("{% load l10n %}{{ y|unlocalize }}").render(Context({"y": 2026})) == "2026"
