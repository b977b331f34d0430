"""The managers' lists in a real browser: filter, sort by a column header (and back), the filters kept;
a malformed date explained beside its field; the capacity page. axe at desk and phone widths, and no
page scrolls sideways (wide tables scroll in their own region)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from allocations.applications.models import ApplicationStatus
from allocations.review.services import application_approve
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)


def _data():
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()
    org = f.OrganisationFactory(legal_name="Beta Climate SRL")
    for title, status in [("Zonal weather model", ApplicationStatus.IN_REVIEW),
                          ("Speech in Walloon", ApplicationStatus.IN_REVIEW),
                          ("Vision for farms", ApplicationStatus.SUBMITTED)]:
        f.application(organisation=org, status=status, title=title)
    app = f.application(status=ApplicationStatus.AWAITING_DECISION, title="Granted model", duration=12)
    application_approve(actor=f.manager(), application=app,
                        quotas={f.site().pk: {"gpu_hours": 900, "cpu_core_hours": 0, "storage_tb": "1"}})


@pytest.mark.parametrize("width", WIDTHS)
def test_manager_filters_and_sorts_the_applications(page, live_server, tmp_path, width):
    _data()
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as(page, live_server, f.manager())
    page.goto(live_server.url + "/staff/applications/")
    page.get_by_label("Status").select_option(label="In review")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("2 applications")).to_be_visible()
    title = page.locator("th", has=page.get_by_role("link", name="Title"))
    expect(title).to_have_attribute("aria-sort", "none")
    title.get_by_role("link").click()
    expect(title).to_have_attribute("aria-sort", "ascending")
    rows = page.locator("tbody tr td:nth-child(2)")
    expect(rows).to_have_text(["Speech in Walloon", "Zonal weather model"])
    title.get_by_role("link").click()
    expect(title).to_have_attribute("aria-sort", "descending")
    expect(rows).to_have_text(["Zonal weather model", "Speech in Walloon"])
    assert "status=in_review" in page.url and "sort=-title" in page.url
    axe_check(page, context=f"application list at {width}")
    page.screenshot(path=str(shots / f"staff-applications-{width}.png"), full_page=True)
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
        > window.innerWidth + 1 && !e.closest('.table-scroll')).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the list scrolls sideways by {overflow}px at {width}px: {wide}"

    page.goto(live_server.url + "/staff/applications/?date_from=31/12/2026")
    expect(page.locator("#id_date_from_error")).to_have_text("Enter a date as YYYY-MM-DD.")
    axe_check(page, context=f"application list with an error at {width}")

    page.goto(live_server.url + "/staff/allocations/?sort=-start_date")
    expect(page.locator("th", has=page.get_by_role("link", name="Start"))).to_have_attribute("aria-sort", "descending")
    axe_check(page, context=f"allocation list at {width}")
    page.screenshot(path=str(shots / f"staff-allocations-{width}.png"), full_page=True)

    page.goto(live_server.url + f"/staff/capacity/?year={datetime.date.today().year}")
    expect(page.get_by_role("columnheader", name="Committed").first).to_be_visible()
    axe_check(page, context=f"capacity at {width}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the capacity page scrolls sideways by {overflow}px at {width}px"
    page.screenshot(path=str(shots / f"capacity-{width}.png"), full_page=True)
