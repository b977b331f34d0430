"""The aid ledger in a real browser: the manager reads the value of the grant and the de minimis headroom on the
decision page, computes the value of lower quotas and approves within the headroom; the line is on the ledger;
the applicant's State aid page. Every page passes axe and never scrolls sideways at desk and phone widths."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from allocations.aid.models import AidLedgerLine
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
        page.screenshot(path=str(shots / f"aid-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_manager_grants_within_the_headroom(page, live_server, tmp_path):
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.50", cpu="0.01")
    f.set_capacity(gpu_hours=400_000)
    app = f.awaiting_decision(requests={"zellik": 50_000})
    organisation = app.organisation
    f.link(organisation)
    f.self_declare(organisation, ("200000.00", timezone.localdate() - datetime.timedelta(days=100)))
    manager = f.manager()

    sign_in_as(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/applications/{app.reference}/decision/")
    section = page.locator("section.aid-value")
    expect(section).to_contain_text("EUR 125,005.00")  # what was asked
    expect(section).to_contain_text("EUR 100,000.00")  # the headroom
    expect(section).to_contain_text("40,000 GPU-hours on Zellik")
    expect(section).to_contain_text("above the ceiling")
    _look(page, shots, "decision")

    page.get_by_label("GPU-hours on Zellik").fill("40000")
    page.get_by_label("CPU core-hours on Zellik").fill("0")
    page.get_by_role("button", name="Compute the value of these quotas").click()
    expect(page.locator("section.aid-value tfoot")).to_contain_text("EUR 100,000.00")
    expect(page.locator("section.aid-value")).not_to_contain_text("above the ceiling of")
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_role("button", name="Confirm the approval").click()  # the summary of what is granted first
    expect(page.locator("body")).to_contain_text("approved: the allocation was created")
    assert AidLedgerLine.objects.get().value == 100_000

    page.goto(f"{live_server.url}/staff/aid/")
    expect(page.locator("table")).to_contain_text(organisation.legal_name)
    _look(page, shots, "ledger")

    owner = organisation.memberships.first().user
    sign_in_as(page, live_server, owner)
    page.goto(f"{live_server.url}/organisations/{organisation.pk}/aid/")
    expect(page.locator("main")).to_contain_text("Holding Outside SA")
    _look(page, shots, "organisation")
