"""The manager's split per quarter in a real browser: the confirmation of an approval shows one row per quarter
the allocation spans, prefilled pro rata beside each quarter's free hours; a split that does not add up is
refused beside the last quarter's field, with what was typed kept; a corrected split is reserved as set. The
page passes axe and never scrolls sideways at desk and phone widths."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from allocations.applications.models import ApplicationStatus
from allocations.applications.services import application_end_date
from allocations.catalogue.models import quarter_label, quarter_start, spread_pro_rata
from allocations.grants.models import Allocation, CapacityReservation
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)


def _look(page, shots: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        axe_check(page, context=f"{name} at {width} px")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"
        page.screenshot(path=str(shots / f"split-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _awaiting_decision(tmp_path):
    """3,000 GPU-hours on Zellik for three months from 10 February next year (two quarters), 50,000 GPU-hours
    published in each quarter; the screenshots' folder."""
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    start = datetime.date(timezone.localdate().year + 1, 2, 10)
    for period in f.quarters(3, quarter_start(start)):
        f.set_capacity(period=period, gpu_hours=50_000, cpu_core_hours=1_000_000)
    app = f.application(status=ApplicationStatus.AWAITING_DECISION, start=start, duration=3,
                        requests={"zellik": 3_000})
    return app, start, shots


def test_the_manager_sets_the_hours_per_quarter(page, live_server, tmp_path):
    app, start, shots = _awaiting_decision(tmp_path)
    shares = spread_pro_rata(3_000, start, application_end_date(app))
    assert len(shares) == 2
    (first, first_share), (second, second_share) = shares
    sign_in_as(page, live_server, f.manager())
    page.goto(f"{live_server.url}/staff/applications/{app.reference}/decision/")
    page.get_by_role("button", name="Approve", exact=True).click()

    # One row per quarter, prefilled pro rata, beside the free hours.
    gpu_first = page.get_by_label(f"GPU-hours on Zellik in {quarter_label(first)}")
    gpu_second = page.get_by_label(f"GPU-hours on Zellik in {quarter_label(second)}")
    expect(gpu_first).to_have_value(str(first_share))
    expect(gpu_second).to_have_value(str(second_share))
    expect(page.get_by_role("row", name=quarter_label(first))).to_contain_text("50,000")
    _look(page, shots, "confirm")

    # A split that does not add up: the error sits beside the last quarter, nothing is recorded.
    gpu_first.fill("2500")
    gpu_second.fill("600")
    page.get_by_role("button", name="Confirm the approval").click()
    error = page.locator(f"#id_split-zellik-{quarter_label(second)}-gpu_error")
    expect(error).to_contain_text("The quarters add up to 3,100 GPU-hours; the grant leaves 3,000 to spread.")
    expect(gpu_first).to_have_value("2500")
    assert not Allocation.objects.filter(application=app).exists()
    _look(page, shots, "error")

    gpu_second.fill("500")
    page.get_by_role("button", name="Confirm the approval").click()
    expect(page.locator(".messages")).to_contain_text("approved")
    alloc = Allocation.objects.get(application=app)
    assert dict(CapacityReservation.objects.filter(allocation=alloc).values_list("period_start", "gpu_hours")) == {
        first: 2_500, second: 500}


def test_the_manager_sets_the_hours_per_quarter_of_a_top_up(page, live_server, tmp_path):
    """From the change requests: "Approve and set the hours per quarter" opens the same table, prefilled with
    what the quotas leave spread pro rata, each quarter's free hours counting what the allocation holds."""
    from allocations.grants.models import ChangeKind, ChangeStatus
    from allocations.review.services import application_approve

    app, start, shots = _awaiting_decision(tmp_path)
    manager = f.manager()
    alloc = application_approve(actor=manager, application=app, quotas={f.site().pk: {
        "gpu_hours": 3_000, "cpu_core_hours": 0, "storage_tb": "0"}})
    cr = f.change_request(alloc, kind=ChangeKind.TOP_UP)
    cr.payload = {"quotas": {str(f.site().pk): {"gpu_hours": 1_000, "cpu_core_hours": 0}}}
    cr.save(update_fields=["payload"])
    (first, _a), (second, _b) = spread_pro_rata(4_000, start, application_end_date(app))
    held_first = CapacityReservation.objects.get(allocation=alloc, period_start=first).gpu_hours

    sign_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/change-requests/")
    row = page.locator(f"#cr-{cr.pk}")
    row.get_by_text("Decide").click()
    row.get_by_label("Approve the change").check()
    row.get_by_role("button", name="Approve and set the hours per quarter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Confirm the top-up of {alloc.reference}")
    gpu_first = page.get_by_label(f"GPU-hours on Zellik in {quarter_label(first)}")
    gpu_second = page.get_by_label(f"GPU-hours on Zellik in {quarter_label(second)}")
    # Free in the first quarter: what is left of 50,000 plus what the allocation holds there.
    expect(page.get_by_role("row", name=quarter_label(first))).to_contain_text(f"{50_000:,}")
    assert held_first > 0
    _look(page, shots, "top-up-confirm")

    gpu_first.fill("4000")
    gpu_second.fill("0")
    page.get_by_role("button", name="Confirm the approval").click()
    expect(page.locator(".messages")).to_contain_text("approved")
    cr.refresh_from_db()
    assert cr.status == ChangeStatus.APPROVED
    assert dict(CapacityReservation.objects.filter(allocation=alloc).values_list("period_start", "gpu_hours")) == {
        first: 4_000}
