"""Refused forms outside the application wizard, used with the keyboard only: the organisation form (a portal
form) and allauth's sign-in form. Each opens with the error summary focused, its links lead to the fields, and each
field announces its own error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import sign_in_as
from tests.browser.test_front_door_journey import described_by, focused, no_violation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_organisation_form_with_the_keyboard(page, live_server):
    f.ensure_reference_data()
    person = f.applicant()
    sign_in_as(page, live_server, person)
    page.goto(live_server.url + "/organisations/new/")
    expect(page.locator("#id_legal_name")).to_have_attribute("autocomplete", "organization")
    # Tab to the submit button and send the form empty.
    page.locator("#id_legal_name").focus()
    page.locator("form button[type=submit]").last.focus()
    page.keyboard.press("Enter")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert focused(page)["summary"]
    expect(summary).to_contain_text("Nothing was saved")
    assert "This field is required." in described_by(page, "#id_legal_name")
    no_violation(page, "organisation form with errors")
    # The first link of the summary leads to its field.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_legal_name"


def test_sign_in_refused_with_the_keyboard(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.locator("#id_login").fill("nobody@example.eu")
    page.locator("#id_password").fill("not the password")
    page.keyboard.press("Enter")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("not correct")
    no_violation(page, "sign-in refused")
