"""The operator's provisioning pages in a browser, at desk and phone width: the open hand-over task with
the lines to run, the portal's actions on jobs, the site page from its stored read and "Refresh now"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants.models import AllocationStatus
from allocations.provisioning.models import JobAction, RecordedChange
from allocations.provisioning.services import read_site_state, sync_allocation
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desk": 1280, "phone": 390}


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_operator_reads_hand_overs_job_actions_and_the_stored_read(page, live_server, settings, tmp_path,
                                                                       width):
    settings.AIF_SLURM_BACKEND = ""
    f.ensure_reference_data()
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    handed, _manager, _ = f.approved_allocation(sites=("charleroi",), users=("alice", "bob"))
    sync_allocation(allocation_id=handed.pk)
    direct, _manager, _ = f.approved_allocation(users=("carol",))
    sync_allocation(allocation_id=direct.pk)
    zellik = Site.objects.get(code="zellik")
    JobAction.objects.create(site=zellik, allocation=direct, action="cancel", job_ids=["4711", "4712"],
                             running_job_ids=["4712"], allocation_status=AllocationStatus.REVOKED)
    change = RecordedChange.objects.filter(account=direct.slurm_account).latest("recorded_at", "pk")
    change.change["state"]["users"] = ["carol", "mallory"]  # changed by hand on the cluster
    change.save()
    read_site_state(site=zellik)

    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    sign_in_as(page, live_server, f.OperatorFactory(totp=True))

    page.goto(live_server.url + "/staff/provisioning/")
    task = page.locator("section[id^=handover-]")
    expect(task).to_contain_text(f"sacctmgr -i add account {handed.slurm_account} cluster=charleroi")
    expect(task.get_by_role("table")).to_contain_text("alice, bob")
    expect(page.locator("[aria-labelledby=job-actions]")).to_contain_text("4711, 4712 (running: 4712)")
    expect(page.locator("#job-actions + p")).to_contain_text("Holds, releases and cancellations the portal made")
    axe_check(page, context=f"provisioning overview at {width} width")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the overview scrolls sideways by {overflow}px"
    page.screenshot(path=str(shots / f"provisioning-overview-{WIDTHS[width]}.png"), full_page=True)

    page.goto(live_server.url + "/staff/provisioning/sites/zellik/")
    expect(page.locator("tr.differs")).to_have_count(1)
    expect(page.locator("tr.differs")).to_contain_text("carol, mallory")
    axe_check(page, context=f"site page at {width} width")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the site page scrolls sideways by {overflow}px"
    page.screenshot(path=str(shots / f"provisioning-site-{WIDTHS[width]}.png"), full_page=True)
    page.get_by_role("button", name="Refresh now").click()
    expect(page.locator(".messages")).to_contain_text("A read of Zellik was queued")


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_operator_sees_and_confirms_a_storage_request(page, live_server, settings, tmp_path, width):
    """Storage by hand-over: the request on the overview, its status on the site page, confirmed in the page."""
    from decimal import Decimal

    from allocations.grants.models import AllocationQuota
    from allocations.provisioning.models import StorageProvision

    settings.AIF_SLURM_BACKEND = ""
    f.ensure_reference_data()
    alloc, _manager, _ = f.approved_allocation(users=("carol",))
    AllocationQuota.objects.filter(allocation=alloc).update(storage_tb=Decimal("12.5"))
    sync_allocation(allocation_id=alloc.pk)

    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    sign_in_as(page, live_server, f.OperatorFactory(totp=True))

    page.goto(live_server.url + "/staff/provisioning/sites/zellik/")
    storage = page.locator("#storage-heading + p + .table-scroll")
    expect(storage).to_contain_text(f"/projects/{alloc.slurm_account}")
    expect(storage).to_contain_text("Pending: waiting for the site's operators")
    axe_check(page, context=f"site page with storage at {width} width")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the site page scrolls sideways by {overflow}px"
    page.screenshot(path=str(shots / f"provisioning-site-storage-{WIDTHS[width]}.png"), full_page=True)

    storage.get_by_role("link", name="open hand-over task since").click()
    task = page.locator("section[id^=handover-]", has_text="Storage request")
    expect(task).to_contain_text("12.50")
    expect(task).to_contain_text(alloc.slurm_account)
    axe_check(page, context=f"overview with a storage task at {width} width")
    page.screenshot(path=str(shots / f"provisioning-storage-task-{WIDTHS[width]}.png"), full_page=True)
    task.get_by_role("button", name="Mark as done").click()
    expect(page.locator(".messages")).to_contain_text("Hand-over recorded as done.")
    assert StorageProvision.objects.get(allocation=alloc).provisioned_tb == Decimal("12.5")
    page.goto(live_server.url + "/staff/provisioning/sites/zellik/")
    expect(page.locator("#storage-heading + p + .table-scroll")).to_contain_text("12.50 TB since")


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_site_page_shows_the_site_data_and_a_fair_share_changed_by_hand(page, live_server, settings, tmp_path,
                                                                          width):
    from allocations.catalogue.models import SiteAccessMode

    settings.AIF_SLURM_BACKEND = ""
    f.ensure_reference_data()
    direct, _manager, _ = f.approved_allocation(users=("carol",))
    zellik = Site.objects.get(code="zellik")
    SiteAccessMode.objects.create(site=zellik, access_mode=direct.application.access_mode, fairshare=20,
                                  max_running_jobs=4, max_job_hours=12)
    sync_allocation(allocation_id=direct.pk)
    change = RecordedChange.objects.filter(account=direct.slurm_account).latest("recorded_at", "pk")
    change.change["state"]["fairshare"] = 99  # changed by hand on the cluster
    change.save()
    read_site_state(site=zellik)

    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    sign_in_as(page, live_server, f.OperatorFactory(totp=True))
    page.goto(live_server.url + "/staff/provisioning/sites/zellik/")
    differs = page.locator("tr.differs")
    expect(differs).to_have_count(1)
    expect(differs).to_contain_text("Fair-share shares")
    expect(differs).to_contain_text("20")
    expect(differs).to_contain_text("99")
    expect(page.get_by_role("row", name="Running jobs per user (MaxJobs)")).to_contain_text("4")
    expect(page.get_by_role("row", name="Longest job (MaxWall, minutes)")).to_contain_text("720")
    expect(page.locator("body")).to_contain_text(f"set Fairshare of {direct.slurm_account} to 20")
    axe_check(page, context=f"site page with site data at {width} width")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the site page scrolls sideways by {overflow}px"
    page.screenshot(path=str(shots / f"provisioning-site-data-{WIDTHS[width]}.png"), full_page=True)
