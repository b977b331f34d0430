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


def test_an_application_step_completed_with_the_keyboard_only(page, live_server):
    """The resources step, reached, refused, corrected and saved without a pointer: Tab to the field, type, Enter;
    the summary takes the focus, each of its errors is announced by the field it links to, its link leads there."""
    f.ensure_reference_data()
    f.publish_capacity()
    member = f.applicant()
    app = f.application(status="draft", member=member)
    sign_in_as(page, live_server, member)
    page.goto(live_server.url + f"/applications/{app.reference}/resources/")
    for _ in range(120):  # Tab through the page, in its order, to the Zellik GPU-hours field
        page.keyboard.press("Tab")
        if focused(page)["id"] == "id_site-zellik-gpu_hours":
            break
    else:
        pytest.fail("the GPU-hours field cannot be reached with Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("999999999999")
    page.keyboard.press("Enter")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    links = summary.locator("a[href^='#']")
    assert links.count() >= 1
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")
        message = links.nth(i).inner_text().split(": ", 1)[-1]
        assert message in described_by(page, target), (target, message)
    no_violation(page, "resources step refused")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_site-zellik-gpu_hours"
    page.keyboard.press("Control+A")
    page.keyboard.type("12000")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Saved")
    expect(summary).to_have_count(0)
    assert app.resources.get(site__code="zellik").gpu_hours == 12_000
