"""A US-English browser (en-US, whose own date input shows mm/dd/yyyy) and the portal in English, French and
Dutch: the application's start date is shown and typed in the portal's language (English ISO 8601, as the
portal writes short dates in English; French and Dutch day first), with the format as help; a month-first date
is refused at its field, with nothing saved; the ISO form is accepted in every language."""

from __future__ import annotations

import datetime
import os
import re
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from allocations.applications.models import Application, ApplicationStatus
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.browser_context_args(locale="en-US", timezone_id="America/New_York")]

SHOTS = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="shots-dates-"))
SAVE = {"en": "Save", "fr": "Enregistrer", "nl": "Opslaan"}
FORMAT = {"en": "%Y-%m-%d", "fr": "%d/%m/%Y", "nl": "%d-%m-%Y"}


def day_first(day: datetime.date, language: str) -> str:
    """As the portal writes a date to type in ``language``."""
    return day.strftime(FORMAT[language])


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_start_date_follows_the_portals_language_in_a_us_english_browser(page, live_server, language):
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()
    member = f.applicant()
    app = f.application(status=ApplicationStatus.DRAFT, member=member)
    stored = app.start_date
    sign_in_as(page, live_server, member)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.goto(live_server.url + f"/applications/{app.reference}/resources/")
    assert page.evaluate("navigator.language") == "en-US"
    expect(page.locator("html")).to_have_attribute("lang", language)

    start = page.locator("#id_start_date")
    expect(start).to_have_attribute("type", "text")
    expect(start).to_have_value(day_first(stored, language))
    pattern = {"en": "yyyy-mm-dd", "fr": "jj/mm/aaaa", "nl": "dd-mm-jjjj"}[language]
    expect(page.locator("#id_start_date_helptext")).to_contain_text(pattern)
    assert "id_start_date_helptext" in start.get_attribute("aria-describedby")
    axe_check(page, context=f"resources step in {language}")

    # Month first, as the browser's own date input would have it: refused at the field, nothing saved.
    later = stored + datetime.timedelta(days=30)
    while later.day <= 12:
        later += datetime.timedelta(days=1)
    start.fill(later.strftime("%m/%d/%Y"))
    page.get_by_role("button", name=SAVE[language], exact=True).click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    error = page.locator("#id_start_date_error")
    expect(error).to_contain_text(datetime.date(timezone.localdate().year, 10, 20).strftime(FORMAT[language]))
    assert "id_start_date_error" in start.get_attribute("aria-describedby")
    expect(start).to_have_value(later.strftime("%m/%d/%Y"))  # what was typed comes back to be corrected
    assert Application.objects.get(pk=app.pk).start_date == stored
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.locator("#id_start_date").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"start-date-refused-{language}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # In the language's format: saved, and shown back the same way.
    start.fill(day_first(later, language))
    page.get_by_role("button", name=SAVE[language], exact=True).click()
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    assert Application.objects.get(pk=app.pk).start_date == later
    expect(page.locator("#id_start_date")).to_have_value(day_first(later, language))

    # ISO 8601 is understood in every language, and a day-first date in English too.
    page.locator("#id_start_date").fill(stored.isoformat() if language != "en" else stored.strftime("%d/%m/%Y"))
    page.get_by_role("button", name=SAVE[language], exact=True).click()
    expect(page.locator("#id_start_date")).to_have_value(day_first(stored, language))
    assert Application.objects.get(pk=app.pk).start_date == stored


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_list_date_filter_is_typed_as_iso_in_every_language_in_a_us_english_browser(page, live_server, language):
    """A staff list's date filter is a text input in ISO 8601 whatever the language (its URL means one day to
    everyone who opens it), never the browser's month-first date input."""
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    sign_in_as(page, live_server, f.manager())
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.goto(live_server.url + "/staff/applications/")
    year = timezone.localdate().year
    since = page.locator("#id_date_from")
    expect(since).to_have_attribute("type", "text")
    expect(page.locator("#id_date_from_helptext")).to_contain_text(f"{year}-10-20")
    assert "id_date_from_helptext" in since.get_attribute("aria-describedby")

    since.fill(f"{year}-01-31")
    since.press("Enter")
    expect(page).to_have_url(re.compile(rf"date_from={year}-01-31"))
    expect(page.locator("#id_date_from")).to_have_value(f"{year}-01-31")
    expect(page.locator("#id_date_from_error")).to_have_count(0)

    page.locator("#id_date_from").fill(f"01/31/{year}")
    page.locator("#id_date_from").press("Enter")
    expect(page.locator("#id_date_from_error")).to_be_visible()
    axe_check(page, context=f"application list with a month-first date in {language}")
