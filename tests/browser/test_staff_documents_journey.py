"""A reviewer signs in with a TOTP code, opens the assigned application, declares no conflict, downloads
the project plan and scores; an ethics officer downloads the same plan from the ethics review page. Both
downloads hand out the uploaded bytes and are audited; every page passes axe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from allocations.applications.models import ApplicationStatus
from allocations.demo import PROJECT_PLAN
from allocations.review import services
from allocations.review.models import AssignmentStatus
from compliance.models import EthicsStatus
from portal.audit import AuditAction
from portal.models import AuditChainHead, AuditEvent
from tests import factories as fr
from tests.browser.conftest import axe_check, sign_in_as
from tests.factories import DEFAULT_PASSWORD, ensure_reference_data, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at, outside the repository.
SHOTS = Path("/tmp/shots-staff-docs")


def download(page, link_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    return Path(info.value.path()).read_bytes()


def test_reviewer_and_ethics_officer_read_the_project_plan(page, live_server):
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    fr.publish_capacity()
    member = fr.applicant()
    boss = fr.manager()
    app = fr.in_review_with_plan(member, boss, plan=PROJECT_PLAN)
    assert app.ethics_review.status == EthicsStatus.PENDING
    reviewer = fr.reviewer(totp=True)
    assignment = services.reviewer_assign(actor=boss, application=app, reviewer=reviewer, kind="technical")

    # 1. The reviewer signs in: password, then the TOTP code.
    page.goto(live_server.url + "/accounts/login/")
    page.locator("input[name=login]").fill(reviewer.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(totp_code())
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/(dashboard|staff)/$"))

    # 2. The assignment: no document before the declaration.
    page.goto(live_server.url + "/staff/reviews/")
    page.get_by_role("link", name=app.reference).click()
    expect(page.get_by_role("heading", name="Declaration of conflicts of interest")).to_be_visible()
    expect(page.get_by_role("link", name="project-plan.pdf")).to_have_count(0)
    axe_check(page, context="declaration")
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_role("button", name="Submit my declaration").click()

    # 3. The whole application on one page, the plan linked with its kind, type and size.
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    item = page.locator("ul.attachments li", has_text="project-plan.pdf")
    expect(item).to_contain_text("Project plan")
    expect(item).to_contain_text("PDF document")
    expect(item).to_contain_text("KB")
    expect(page.get_by_role("heading", name="EU AI Act assessment")).to_be_visible()
    expect(page.get_by_text("Outside the scope of the AI Act").first).to_be_visible()
    expect(page.get_by_text("Personal data: Yes: Voices are pseudonymised; DPIA attached.")).to_be_visible()
    axe_check(page, context="review page with the documents")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reviewer-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "reviewer-390.png"), full_page=True)
    axe_check(page, context="review page at 390 px")
    page.set_viewport_size({"width": 1280, "height": 900})

    got = download(page, "project-plan.pdf")
    assert got.startswith(b"%PDF-") and got == PROJECT_PLAN

    # 4. Score and submit.
    for code, value in {"feasibility": 4, "resources": 4, "team": 5}.items():
        page.locator(f"input[name=score_{code}][value='{value}']").check()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Comments for the committee").fill("The plan is clear; the DPIA covers the recordings.")
    page.get_by_role("button", name="Submit the review").click()
    expect(page.get_by_text("your review of")).to_be_visible()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION

    # 5. The ethics officer opens the same plan from the ethics review page.
    officer = fr.EthicsOfficerFactory(totp=True)
    sign_in_as(page, live_server, officer)
    page.goto(live_server.url + "/staff/ethics/")
    page.get_by_role("link", name=app.reference).first.click()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    axe_check(page, context="ethics review page with the documents")
    page.screenshot(path=str(SHOTS / "ethics-1280.png"), full_page=True)
    assert download(page, "project-plan.pdf") == PROJECT_PLAN

    readers = list(AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED)
                   .order_by("seq").values_list("actor_id", "changes__as"))
    assert readers == [(reviewer.pk, "reviewer"), (officer.pk, "ethics_officer")]
