"""A reviewer signs in with a TOTP code, declares no conflict and scores; a manager approves with
quotas, reads the summary and confirms; the applicant sees the allocation. Every page passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from allocations.applications.models import ApplicationStatus
from allocations.grants.models import Allocation
from allocations.review import services
from allocations.review.models import AssignmentStatus
from portal.models import AuditChainHead
from tests import factories as fr
from tests.browser.conftest import axe_check, sign_in_as
from tests.factories import DEFAULT_PASSWORD, ensure_reference_data, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_review_decide_and_see_the_allocation(page, live_server, monkeypatch):
    monkeypatch.setattr("allocations.provisioning.tasks.provision_allocation.delay", lambda *a, **k: None)
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    fr.set_capacity(gpu_hours=50_000)
    member = fr.applicant()
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member, requests={"zellik": 2000},
                         title="Protein language model for enzymes")
    reviewer = fr.reviewer(totp=True)
    boss = fr.manager()
    assignment = services.reviewer_assign(actor=boss, application=app, reviewer=reviewer, kind="technical")

    # 1. The reviewer signs in: password, then the TOTP code.
    page.goto(live_server.url + "/accounts/login/")
    axe_check(page, context="sign in")
    page.locator("input[name=login]").fill(reviewer.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    axe_check(page, context="TOTP step")
    page.locator("input[name=code]").fill(totp_code())
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/(dashboard|staff)/$"))

    # 2. My assignments -> the declaration, before any content.
    page.goto(live_server.url + "/staff/")
    axe_check(page, context="staff home (reviewer)")
    page.get_by_role("link", name="My review assignments").click()
    axe_check(page, context="my assignments")
    page.get_by_role("link", name=app.reference).click()
    expect(page.get_by_role("heading", name="Declaration of conflicts of interest")).to_be_visible()
    expect(page.get_by_text(app.organisation.legal_name)).to_be_visible()
    assert "Protein language model for enzymes" not in page.content()
    axe_check(page, context="declaration")
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_role("button", name="Submit my declaration").click()

    # 3. The content and the rubric.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Protein language model for enzymes")
    axe_check(page, context="review form")
    for code, value in {"feasibility": 5, "resources": 4, "team": 4}.items():
        page.locator(f"input[name=score_{code}][value='{value}']").check()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Comments for the committee").fill("Strong team, realistic plan.")
    page.get_by_label("Comments for the applicant").fill("Well justified request.")
    page.get_by_role("button", name="Submit the review").click()
    expect(page.get_by_text("your review of")).to_be_visible()
    axe_check(page, context="assignments after submitting")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION

    # 4. The manager decides, lowering the GPU-hours.
    sign_in_as(page, live_server, boss)
    page.goto(live_server.url + "/staff/applications/")
    axe_check(page, context="applications overview")
    page.get_by_role("link", name=f"Decide {app.reference}").click()
    expect(page.get_by_text("Strong team, realistic plan.")).to_be_visible()
    axe_check(page, context="decision page")
    page.get_by_label("GPU-hours on Zellik").fill("1500")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("cell", name="1,500", exact=True)).to_be_visible()  # the summary asks first
    axe_check(page, context="approval confirmation")
    page.get_by_role("button", name="Confirm the approval").click()
    expect(page.get_by_text("approved: the allocation was created")).to_be_visible()
    axe_check(page, context="overview after approval")
    alloc = Allocation.objects.get(application=app)
    assert alloc.quotas.get().gpu_hours == 1500
    for path in ("/staff/deadlines/", "/staff/capacity/", "/staff/allocations/",
                 f"/staff/allocations/{alloc.reference}/", "/staff/change-requests/"):
        page.goto(live_server.url + path)
        axe_check(page, context=path)

    # 5. The applicant sees the allocation and the anonymous reviews.
    sign_in_as(page, live_server, member)
    page.goto(live_server.url + "/allocations/")
    axe_check(page, context="my allocations")
    page.get_by_role("link", name=alloc.reference).click()
    expect(page.get_by_text(alloc.slurm_account, exact=True)).to_be_visible()
    # Granted, and (no usage reported yet) all of it remaining.
    expect(page.get_by_role("cell", name="1,500", exact=True)).to_have_count(2)
    axe_check(page, context="allocation")
    page.get_by_role("link", name="reviews and decision").click()
    expect(page.get_by_text("Well justified request.")).to_be_visible()
    assert reviewer.display_name not in page.content()
    axe_check(page, context="feedback")
