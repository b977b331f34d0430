"""The reviewer's, the ethics officer's and the manager's work lists in a real browser: filter with the
form, sort by a column header, the filters kept in the address; axe at desk and phone widths, and no page
scrolls sideways (wide tables scroll in their own region)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from allocations.applications.models import ApplicationStatus
from allocations.grants.models import ChangeKind
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsStatus
from portal.audit import AuditAction, audit_record
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)


def _shots(tmp_path) -> Path:
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _no_sideways_scroll(page, what: str, width: int) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
        > window.innerWidth + 1 && !e.closest('.table-scroll')).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px at {width}px: {wide}"


@pytest.mark.parametrize("width", WIDTHS)
def test_reviewer_filters_and_sorts_their_assignments(page, live_server, tmp_path, width):
    f.ensure_reference_data()
    reviewer, boss = f.reviewer(), f.manager()
    org = f.OrganisationFactory(legal_name="Beta Climate SRL")
    today = timezone.localdate()
    refs = {}
    for days, title, status in [(3, "Zonal weather model", AssignmentStatus.ACCEPTED),
                                (9, "Speech in Walloon", AssignmentStatus.ACCEPTED),
                                (1, "Vision for farms", AssignmentStatus.SUBMITTED)]:
        app = f.application(organisation=org, status=ApplicationStatus.IN_REVIEW, title=title)
        ReviewAssignment.objects.create(application=app, reviewer=reviewer, kind="technical", status=status,
                                        assigned_by=boss, due_date=today + datetime.timedelta(days=days))
        refs[title] = app.reference
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as(page, live_server, reviewer)
    page.goto(live_server.url + "/staff/reviews/")
    page.get_by_label("Status").select_option(label="No conflict declared: reviewing")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("2 assignments")).to_be_visible()
    due = page.locator("th", has=page.get_by_role("link", name="Due"))
    due.get_by_role("link").click()
    expect(due).to_have_attribute("aria-sort", "ascending")
    references = page.locator("tbody tr td:nth-child(1)")
    expect(references).to_have_text([refs["Zonal weather model"], refs["Speech in Walloon"]])
    due.get_by_role("link").click()
    expect(due).to_have_attribute("aria-sort", "descending")
    expect(references).to_have_text([refs["Speech in Walloon"], refs["Zonal weather model"]])
    assert "status=accepted" in page.url and "sort=-due_date" in page.url
    axe_check(page, context=f"review list at {width}")
    _no_sideways_scroll(page, "the review list", width)
    page.screenshot(path=str(_shots(tmp_path) / f"staff-reviews-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_ethics_officer_filters_the_queue_and_the_audit_trail(page, live_server, tmp_path, width):
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    officer = f.EthicsOfficerFactory(full_name="Erin Ethics")
    org = f.OrganisationFactory(legal_name="Beta Climate SRL")
    apps = [f.application(organisation=org, title=title, ethics=status, sector=sector)
            for title, status, sector in [("Zonal weather model", EthicsStatus.PENDING, "health"),
                                          ("Speech in Walloon", EthicsStatus.PENDING, "manufacturing"),
                                          ("Vision for farms", EthicsStatus.CLEARED, "health")]]
    with transaction.atomic():
        for app in apps:
            audit_record(actor=officer, action=AuditAction.APPLICATION_CREATED, target=app)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as(page, live_server, officer)
    page.goto(live_server.url + "/staff/ethics/")
    expect(page.get_by_role("heading", name="To review")).to_be_visible()
    page.get_by_label("Sector").select_option(label="Health")
    page.get_by_role("button", name="Filter").click()
    titles = page.locator("section[aria-labelledby=pending-heading] tbody tr td:nth-child(2)")
    expect(titles).to_have_text(["Zonal weather model"])
    page.get_by_label("Status").select_option(index=0)  # Any
    page.get_by_role("button", name="Filter").click()
    title = page.locator("th", has=page.get_by_role("link", name="Title"))
    title.get_by_role("link").click()
    expect(title).to_have_attribute("aria-sort", "ascending")
    expect(titles).to_have_text(["Vision for farms", "Zonal weather model"])
    assert "sector=health" in page.url and "sort=title" in page.url
    axe_check(page, context=f"ethics list at {width}")
    _no_sideways_scroll(page, "the ethics list", width)
    page.screenshot(path=str(_shots(tmp_path) / f"staff-ethics-{width}.png"), full_page=True)

    page.get_by_role("link", name="Audit trail").click()
    page.get_by_label("Search").fill(apps[1].reference)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 event", exact=True)).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Application created")
    expect(page.locator("tbody")).to_contain_text("Erin Ethics")
    page.goto(live_server.url + "/staff/audit/?date_from=31/12/2026")
    expect(page.locator("#id_date_from_error")).to_have_text("Enter a date as YYYY-MM-DD.")
    page.goto(live_server.url + "/staff/audit/?q=Erin&sort=seq")
    axe_check(page, context=f"audit trail at {width}")
    _no_sideways_scroll(page, "the audit trail", width)
    page.screenshot(path=str(_shots(tmp_path) / f"staff-audit-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_manager_filters_change_requests_and_decides_one(page, live_server, tmp_path, width):
    f.ensure_reference_data()
    org = f.OrganisationFactory(legal_name="Beta Climate SRL")
    extension = f.change_request(f.allocation(organisation=org), days_ago=3)
    f.change_request(f.allocation(), kind=ChangeKind.EXTENSION, days_ago=1)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as(page, live_server, f.manager())
    page.goto(live_server.url + "/staff/change-requests/")
    expect(page.get_by_role("heading", name="Change requests to decide")).to_be_visible()
    expect(page.get_by_text("2 change requests")).to_be_visible()
    page.get_by_label("Search").fill("beta climate")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 change request", exact=True)).to_be_visible()
    assert "q=beta+climate" in page.url and "status=submitted" in page.url
    row = page.locator(f"#cr-{extension.pk}")
    row.get_by_text("Decide").click()
    axe_check(page, context=f"change requests at {width}")
    _no_sideways_scroll(page, "the change requests", width)
    page.screenshot(path=str(_shots(tmp_path) / f"staff-change-requests-{width}.png"), full_page=True)
    row.get_by_label("Reject it").check()
    row.get_by_label("Reason").fill("The experiments are finished.")
    row.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text(f"Change to {extension.allocation.reference} rejected.")).to_be_visible()
    expect(page.get_by_text("1 change request", exact=True)).to_be_visible()  # the other one still waits
