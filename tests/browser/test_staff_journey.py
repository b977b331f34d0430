"""Staff in a real browser: a manager finds an application on their home, checks it and assigns a reviewer;
the reviewer signs in with the password and the second factor, lands on their home, sees the assignment
with its due date and the unread count in the header, and opens it. Every role's home, at desk and phone
widths, passes axe and never scrolls sideways."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from accounts.models import Notification, NotificationKind
from allocations.applications.models import ApplicationStatus
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsStatus
from portal.models import AuditChainHead
from portal.workdays import working_days_between
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as
from tests.factories import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desk": 1280, "phone": 390}


def staff_fixtures():
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()


def test_manager_assigns_and_the_reviewer_finds_the_work_on_their_home(page, live_server, password,
                                                                       fresh_totp_codes):
    staff_fixtures()
    boss = f.manager()
    person = f.reviewer()
    app = f.application(decision_due=f.start_soon())

    # The manager lands on their home and finds the application among the eligibility checks.
    sign_in_as(page, live_server, boss)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    axe_check(page, context="manager home")
    checks = page.locator("section.work", has=page.get_by_role("heading", name=re.compile("Eligibility checks")))
    checks.get_by_role("link", name=re.compile(app.reference)).click()
    page.get_by_label("Eligible: send it to review").check()
    page.get_by_role("button", name="Record the eligibility check").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.reference)
    reviewer_select = page.get_by_label("Reviewer").first  # each option names the reviewer and their load
    reviewer_select.select_option(
        value=reviewer_select.locator("option", has_text=person.display_name).get_attribute("value"))
    page.get_by_role("button", name="Assign technical reviewer").click()
    expect(page.locator(".messages")).to_contain_text(f"{person.display_name} was asked")
    assignment = ReviewAssignment.objects.get(application=app, reviewer=person)
    assert Notification.objects.get(recipient=person).kind == NotificationKind.REVIEWER_ASSIGNED
    assert [m.subject for m in mail.outbox if m.to == [person.email]] == [
        f"[AI Factory] Review assigned to you: {app.reference}"]

    # The reviewer signs in (password, then the code of their authenticator) and lands on their home.
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    axe_check(page, context="reviewer home")
    expect(page.get_by_role("link", name="Notifications (1 unread)")).to_be_visible()
    declarations = page.locator("section.work",
                                has=page.get_by_role("heading", name=re.compile("Conflict declarations to make")))
    item = declarations.locator("li", has_text=app.reference)
    days = working_days_between(timezone.localdate(), assignment.due_date)
    expect(item).to_contain_text(f"Due {date_format(assignment.due_date, 'DATE_FORMAT')}, in {days} working days")
    item.get_by_role("link", name=re.compile(app.reference)).click()
    expect(page).to_have_url(re.compile(rf"/staff/reviews/{assignment.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.reference)
    axe_check(page, context="conflict declaration")

    # The notification itself: listed unread, opened, then read.
    page.get_by_role("link", name="Notifications (1 unread)").click()
    axe_check(page, context="notifications")
    expect(page.locator("li.notification.unread")).to_contain_text("The access committee asks you to review")
    page.get_by_role("button", name=re.compile(r"^Open")).click()
    expect(page).to_have_url(re.compile(rf"/staff/reviews/{assignment.pk}/$"))
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    assert ReviewAssignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ASSIGNED


def role_homes():
    """One person per role, each with work waiting, and an application of each kind."""
    staff_fixtures()
    people = {"manager": f.manager(), "ethics": f.EthicsOfficerFactory(totp=True),
              "reviewer": f.reviewer(), "operator": f.OperatorFactory(totp=True)}
    long_ago = timezone.localdate() - datetime.timedelta(days=45)
    for due in (long_ago, f.start_soon(), None):
        f.application(decision_due=due)
        f.application(ethics=EthicsStatus.PENDING, decision_due=due)
        f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), people["reviewer"], due=due)
    f.application(status=ApplicationStatus.AWAITING_DECISION, decision_due=f.start_soon())
    f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), status=AssignmentStatus.CONFLICTED)
    f.add_condition(f.application(status=ApplicationStatus.APPROVED, start=f.start_soon()))
    alloc = f.allocation()
    f.change_request(alloc, days_ago=6)
    f.sync_failure(f.allocation())
    f.handover(alloc)
    f.stale_attempt(f.allocation())
    f.full_reconcile("zellik", drift=["account aif-2026-0001: limits differ"])
    return people


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_role_home_reads_at_desk_and_phone_width(page, live_server, tmp_path, width):
    people = role_homes()
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    for role, person in people.items():
        sign_in_as(page, live_server, person)
        page.goto(live_server.url + "/staff/")
        expect(page.get_by_role("heading", level=1)).to_have_text("My work")
        if role != "operator":  # an operator's work has no deadline, only a time waited
            expect(page.locator(".work-items li").first).to_have_class("overdue")  # overdue work comes first
        axe_check(page, context=f"{role} home at {width} width")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the {role} home scrolls sideways by {overflow}px at {WIDTHS[width]}px"
        page.screenshot(path=str(shots / f"home-{role}-{WIDTHS[width]}.png"), full_page=True)
