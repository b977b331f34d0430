"""An ethics officer signs in with a password and a TOTP code, generates a period report, watches the
progress bar move as the report is rendered, downloads the PDF and checks its hash; every page goes
through axe."""

import hashlib
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from compliance import tasks
from compliance.models import Report, ReportStatus
from compliance.reports import services
from tests import factories as builders
from tests.browser.conftest import axe_check
from tests.factories import DEFAULT_PASSWORD, EthicsOfficerFactory, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    axe_check(page, context="second factor")
    page.locator("input[name=code]").fill(totp_code())
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/(dashboard|staff)/$"))


def test_ethics_officer_generates_watches_and_downloads_a_period_report(page, live_server, monkeypatch):
    builders.decisions(3)
    officer = EthicsOfficerFactory(totp=True, full_name="Eva Ethics")
    # Queue instead of rendering inside the request, so the page can be seen waiting and then moving.
    queued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", queued.append)

    sign_in(page, live_server, officer)
    page.goto(live_server.url + "/staff/")
    axe_check(page, context="staff home")
    page.get_by_role("link", name="Ethics workspace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ethics workspace")
    axe_check(page, context="ethics workspace")
    page.get_by_role("link", name="New period report").click()
    expect(page).to_have_url(re.compile(r"/staff/reports/$"))
    axe_check(page, context="reports")

    today = timezone.localdate().isoformat()
    new_report = page.get_by_role("region", name="New period report")  # the aid register has its own dates
    new_report.get_by_label("From").fill(today)
    new_report.get_by_label("To (inclusive)").fill(today)
    new_report.get_by_label("Site").select_option("zellik")
    new_report.get_by_label("Language of the report").select_option("en")
    page.get_by_role("button", name="Generate the report").click()

    report = Report.objects.get()
    expect(page).to_have_url(re.compile(rf"/staff/reports/{report.pk}/$"))
    bar = page.locator("#report-progress-bar")
    expect(bar).to_have_attribute("value", "0")
    expect(page.get_by_role("status").filter(has_text="Queued")).to_be_visible()
    expect(page.locator("#report-links")).to_be_hidden()
    axe_check(page, context="report queued")
    assert queued == [report.pk]
    # Record every value the bar takes from now on.
    page.evaluate("""() => {
        const bar = document.getElementById("report-progress-bar");
        window.seenProgress = [];
        new MutationObserver(() => window.seenProgress.push(Number(bar.value)))
            .observe(bar, {attributes: true, attributeFilter: ["value"]});
    }""")

    # The worker's turn (eager Celery in the test thread); the page keeps polling the status endpoint.
    seen: list[int] = []
    original = services._set_progress

    def slow_progress(report_id, value, on_progress):
        original(report_id, value, on_progress)
        seen.append(value)
        page.wait_for_timeout(1200)  # leave the page time to poll and show the intermediate value

    monkeypatch.setattr(services, "_set_progress", slow_progress)
    assert tasks.generate_report.delay(report.pk).get() == ReportStatus.DONE
    assert seen == [30, 75, 90]

    expect(bar).to_have_attribute("value", "100", timeout=20_000)
    expect(page.locator("#report-status")).to_contain_text("Ready")
    shown = page.evaluate("() => window.seenProgress")
    assert any(0 < value < 100 for value in shown), shown  # the bar moved through intermediate values
    download_link = page.get_by_role("link", name="Download the PDF")
    expect(download_link).to_be_visible()
    axe_check(page, context="report ready")

    with page.expect_download() as info:
        download_link.click()
    path = info.value.path()
    content = open(path, "rb").read()
    report.refresh_from_db()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == report.sha256

    # The verification page says so too.
    page.goto(live_server.url + "/reports/verify/")
    axe_check(page, context="verify")
    page.get_by_label("Report (PDF)").set_input_files(path)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Valid: issued by the portal, unaltered")).to_be_visible()
    axe_check(page, context="verified")
