"""Every role has a home with its work: after sign-in each person lands on it, and it shows counts and the
next items with their due dates in working days, overdue first; a person with several roles sees each
section. Applicants keep their dashboard."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.adapter import AccountAdapter
from accounts.home import WorkList, WorkTable, sections_for
from accounts.roles import Role
from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import SiteCapacity, quarter_start
from allocations.review.models import AssignmentStatus
from allocations.review.selectors import reviewer_work
from compliance.models import EthicsStatus
from portal.workdays import working_days_between
from tests import factories as f
from tests.factories import totp_code

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LONG_AGO = TODAY - datetime.timedelta(days=40)
SOON = TODAY + datetime.timedelta(days=30)
LATER = TODAY + datetime.timedelta(days=60)


def home(client, person) -> str:
    client.force_login(person)
    response = client.get(reverse("staff_home"))
    assert response.status_code == 200
    return response.content.decode()


def in_order(page: str, *texts: str) -> bool:
    positions = [page.index(text) for text in texts]
    return positions == sorted(positions)


def part(section, key):
    return next(p for p in section.parts if p.key == key)


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


# --- reviewer -------------------------------------------------------------------------------------


def reviewer_with_work():
    person = f.reviewer()
    later = f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), person, due=SOON)
    late = f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), person, due=LONG_AGO)
    writing = f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), person,
                           status=AssignmentStatus.ACCEPTED, due=LATER)
    # Not work: submitted, on an application no longer in review, someone else's.
    f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), person, status=AssignmentStatus.SUBMITTED)
    f.assignment(f.application(status=ApplicationStatus.AWAITING_DECISION), person)
    f.assignment(f.application(status=ApplicationStatus.IN_REVIEW))
    return person, later, late, writing


def test_the_reviewer_sees_declarations_then_reviews_overdue_first(client):
    person, later, late, writing = reviewer_with_work()
    declare, review = reviewer_work(person, TODAY)
    assert (declare.count, review.count) == (2, 1)
    assert [i.link for i in declare.items] == [reverse("review:assignment_detail", args=[a.pk]) for a in (late, later)]
    overdue, upcoming = declare.items
    assert overdue.overdue and overdue.working_days == working_days_between(LONG_AGO, TODAY) > 0
    assert not upcoming.overdue and upcoming.days_left == working_days_between(TODAY, SOON)
    page = home(client, person)
    assert in_order(page, "Conflict declarations to make", late.application.reference, later.application.reference,
                    "Reviews to write", writing.application.reference)
    assert (f"Overdue: due {date_format(LONG_AGO, 'DATE_FORMAT')}, {overdue.working_days} working days ago"
            in page)
    assert f"Due {date_format(SOON, 'DATE_FORMAT')}, in {upcoming.days_left} working days" in page
    assert re.search(rf'<li class="overdue">\s*<a href="/staff/reviews/{late.pk}/">', page)
    assert "Access committee" not in page and "Ethics reviews to decide" not in page


def test_the_home_speaks_the_active_language(client):
    person, _later, _late, _writing = reviewer_with_work()
    client.force_login(person)
    page = client.get(reverse("staff_home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with translation.override("fr"):
        due = date_format(LONG_AGO, "DATE_FORMAT")
    assert due in page and re.search(r"\d{1,2} \w+ \d{4}", due)  # "3 novembre 2026": day first
    assert "Conflict declarations to make" not in page


# --- ethics officer -------------------------------------------------------------------------------


def test_the_ethics_officer_sees_the_queue_by_decision_date_and_the_open_conditions(client):
    officer = f.EthicsOfficerFactory(totp=True)
    no_date = f.application(ethics=EthicsStatus.PENDING)
    later = f.application(ethics=EthicsStatus.PENDING, decision_due=SOON)
    first = f.application(ethics=EthicsStatus.PENDING, decision_due=LONG_AGO)
    f.application(ethics=EthicsStatus.AUTO_CLEARED, decision_due=LONG_AGO)  # not in the queue
    conditional = f.application(status=ApplicationStatus.APPROVED, start=SOON)
    f.add_condition(conditional, "Delete the raw recordings after training.")
    acknowledged = f.add_condition(f.application(status=ApplicationStatus.APPROVED), "Done already.")
    acknowledged.acknowledged_at = timezone.now()
    acknowledged.save()
    [section] = sections_for(officer)
    queue, conditions = section.parts
    assert queue.count == 3 and [i.title.split(" · ")[0] for i in queue.items] == [
        first.reference, later.reference, no_date.reference]
    assert queue.items[2].due is None and queue.items[2].since == TODAY
    assert conditions.count == 1 and conditions.items[0].due == SOON
    assert conditions.items[0].link == reverse("compliance:ethics_review", args=[conditional.reference])
    page = home(client, officer)
    assert in_order(page, "Ethics reviews to decide", first.reference, later.reference, no_date.reference,
                    "Conditions not yet acknowledged", "Delete the raw recordings")
    assert f"Waiting since {date_format(TODAY, 'DATE_FORMAT')} (0 working days)" in page


# --- allocation manager ---------------------------------------------------------------------------


def test_the_manager_sees_checks_decisions_conflicts_changes_and_capacity(client):
    boss = f.manager()
    f.publish_capacity()
    SiteCapacity.objects.filter(site__code="zellik", period_start=quarter_start(TODAY)).update(
        committed_gpu_hours=100_000)
    eligible_late = f.application(decision_due=LONG_AGO)
    eligible_soon = f.application(decision_due=SOON)
    ready = f.application(status=ApplicationStatus.AWAITING_DECISION, decision_due=SOON)
    f.application(status=ApplicationStatus.AWAITING_DECISION, ethics=EthicsStatus.PENDING)  # ethics not cleared
    conflicted = f.application(status=ApplicationStatus.IN_REVIEW, decision_due=SOON)
    culprit = f.assignment(conflicted, status=AssignmentStatus.CONFLICTED)
    replaced = f.application(status=ApplicationStatus.IN_REVIEW)
    f.assignment(replaced, status=AssignmentStatus.CONFLICTED)
    f.assignment(replaced, status=AssignmentStatus.ASSIGNED)  # a new reviewer already took it
    alloc = f.allocation()
    change = f.change_request(alloc, days_ago=10)
    [section] = sections_for(boss)
    assert section.label == Role.ALLOCATION_MANAGER.label
    eligibility, decision, conflicts, changes, capacity, reports_overdue, reports_to_review = section.parts
    assert reports_overdue.count == reports_to_review.count == 0  # tests/outcomes cover these lists
    assert [i.title.split(" · ")[0] for i in eligibility.items] == [eligible_late.reference,
                                                                     eligible_soon.reference]
    assert eligibility.items[0].overdue and not eligibility.items[1].overdue
    assert decision.count == 1 and decision.items[0].link == reverse("review:application_decision",
                                                                     args=[ready.reference])
    assert conflicts.count == 1 and conflicts.items[0].link == reverse("review:application_reviewers",
                                                                       args=[conflicted.reference])
    assert culprit.reviewer.display_name in conflicts.items[0].detail
    assert changes.count == 1 and changes.items[0].since == timezone.localdate(change.requested_at)
    assert changes.items[0].waited == working_days_between(changes.items[0].since, TODAY)
    assert isinstance(capacity, WorkTable) and len(capacity.rows) == 4  # two quarters, two sites
    quarter = f"{TODAY:%Y}-Q{(TODAY.month - 1) // 3 + 1}"
    assert capacity.rows[:2] == [[quarter, "Charleroi", "400,000", "0 (0%)", "400,000"],
                                 [quarter, "Zellik", "400,000", "100,000 (25%)", "300,000"]]
    page = home(client, boss)
    assert in_order(page, "Eligibility checks", eligible_late.reference, eligible_soon.reference,
                    "Ready for a decision", ready.reference, "Declared conflicts: reviewers to replace",
                    conflicted.reference, "Change requests to decide", alloc.reference, "GPU capacity per site")
    assert f'href="{reverse("grants:change_request_list")}#cr-{change.pk}"' in page
    assert replaced.reference not in page


# --- operator -------------------------------------------------------------------------------------


def test_the_operator_sees_failures_drift_handovers_and_stuck_attempts(client):
    operator = f.OperatorFactory(totp=True)
    failing, handed, stuck = f.allocation(), f.allocation(), f.allocation()
    f.allocation()  # in sync: not work
    f.sync_failure(failing)
    f.full_reconcile("zellik", drift=["account aif-x: limits differ", "user bob missing"])
    f.full_reconcile("charleroi")  # matched: not work
    task = f.handover(handed)
    f.stale_attempt(stuck, minutes=90)
    f.stale_attempt(handed, minutes=5)  # still running normally
    [section] = sections_for(operator)
    errors, drift, handovers, stale = section.parts
    assert (errors.count, drift.count, handovers.count, stale.count) == (1, 1, 1, 1)
    assert errors.items[0].title.startswith(failing.reference) and errors.items[0].since == TODAY
    assert drift.items[0].title == "Zellik" and drift.items[0].detail == (
        "2 differences found by the last full reconcile")
    assert handovers.items[0].link == reverse("provisioning:overview") + f"#handover-{task.pk}"
    assert stale.items[0].title.startswith(stuck.reference)
    page = home(client, operator)
    assert in_order(page, "Provisioning failures", failing.reference, "Sites where the cluster differed",
                    "Hand-over tasks to do", "Attempts that stopped answering")
    assert f'id="handover-{task.pk}"' in client.get(reverse("provisioning:overview")).content.decode()


# --- several roles, no role, labels ---------------------------------------------------------------


def test_a_person_with_several_roles_sees_each_section_main_role_first(client):
    person = f.give_role(f.reviewer(), Role.ALLOCATION_MANAGER)
    sections = sections_for(person)
    assert [s.role for s in sections] == [Role.ALLOCATION_MANAGER, Role.REVIEWER]
    page = home(client, person)
    assert in_order(page, 'id="work-1-heading">Allocation manager', "Eligibility checks",
                    'id="work-2-heading">Reviewer', "Conflict declarations to make")


def test_every_part_is_a_list_or_a_table_of_texts():
    person = f.AdminFactory()
    sections = sections_for(person)
    assert [s.role for s in sections] == [Role.ALLOCATION_MANAGER, Role.ETHICS_OFFICER, Role.REVIEWER,
                                          Role.OPERATOR]
    for section in sections:
        assert section.parts and all(isinstance(p, WorkList | WorkTable) for p in section.parts)


RAW_CODES = ["allocation_manager", "ethics_officer", "in_review", "awaiting_decision", "auto_cleared",
             "needs_sync", "full_reconcile", "handed_over", "|technical", "|extension", "drift_fixed"]


def test_the_home_shows_labels_never_codes(client):
    admin = f.AdminFactory(totp=True)
    f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), f.give_role(admin, Role.REVIEWER))
    f.application(status=ApplicationStatus.AWAITING_DECISION)
    f.change_request(f.allocation())
    f.full_reconcile("zellik", drift=["x"])
    text = re.sub(r"<[^>]*>", "|", home(client, admin))  # what a person reads: tags and links out
    assert [code for code in RAW_CODES if code in text] == []
    assert "|Technical|" in text and "|Extension of the end date|" in text


def test_applicants_have_no_staff_home_and_keep_their_dashboard(client):
    applicant = f.applicant()
    client.force_login(applicant)
    assert client.get(reverse("staff_home")).status_code == 403
    assert client.get("/").url == reverse("dashboard")
    assert sections_for(applicant) == []


# --- where people land ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["reviewer", "ethics_officer", "allocation_manager", "operator", "admin"])
def test_staff_land_on_their_home(client, kind):
    person = f.STAFF_FACTORIES[kind](totp=True)
    request = RequestFactory().get("/")
    request.user = person
    assert AccountAdapter().get_login_redirect_url(request) == reverse("staff_home")
    client.force_login(person)
    assert client.get("/").url == reverse("staff_home")


def test_an_applicant_lands_on_the_dashboard_after_signing_in(client, password):
    applicant = f.applicant()
    response = client.post(reverse("account_login"), {"login": applicant.email, "password": password})
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_a_reviewer_signing_in_with_the_second_factor_lands_on_the_home(client, password,
                                                                       fresh_totp_codes):
    person = f.reviewer()
    response = client.post(reverse("account_login"), {"login": person.email, "password": password})
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302 and response.url == reverse("staff_home")


def test_a_link_followed_before_signing_in_still_wins(client, password):
    applicant = f.applicant()
    target = reverse("accounts:notifications")
    response = client.post(reverse("account_login") + f"?next={target}",
                           {"login": applicant.email, "password": password, "next": target})
    assert response.url == target


# --- query counts ---------------------------------------------------------------------------------


def grow(kind: str, n: int) -> None:
    """More of each kind of work a role's home shows."""
    for _ in range(n):
        if kind == "reviewer":
            pass  # the reviewer's own assignments are added by the test
        elif kind == "manager":
            f.application(decision_due=SOON)
            f.application(status=ApplicationStatus.AWAITING_DECISION)
            f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), status=AssignmentStatus.CONFLICTED)
            f.change_request(f.allocation())
            f.final_report(due=LONG_AGO)
            f.final_report(status="submitted")
        elif kind == "ethics":
            f.add_condition(f.application(ethics=EthicsStatus.PENDING, decision_due=SOON))
        elif kind == "operator":
            alloc = f.allocation()
            f.sync_failure(alloc)
            f.handover(alloc)
            f.stale_attempt(alloc)


# Session, user, roles, the header's unread count (the second factor is read from the session), then each
# role's reads: reviewer 1, ethics
# officer 4 (queue and conditions: count and rows), manager 5 (eligibility and decisions: count and rows;
# conflicts: one, or two when there are some) + 2 (change requests: count and rows) + 1 (capacity) + 4 (final
# reports overdue and to review: count and rows),
# operator 8 (failures, hand-overs, stuck attempts: count and rows; drift: sites and their last reconciles).
@pytest.mark.parametrize("kind, factory, expected", [
    ("reviewer", f.reviewer, 4 + 1), ("ethics", f.EthicsOfficerFactory, 4 + 4),
    ("manager", f.manager, 4 + 5 + 1 + 2 + 1 + 4), ("operator", f.OperatorFactory, 4 + 8)])
def test_the_home_costs_the_same_queries_whatever_the_work(client, kind, factory, expected):
    person = factory(totp=True)
    client.force_login(person)
    url = reverse("staff_home")
    grow(kind, 1)
    if kind == "reviewer":
        f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), person)
    f.full_reconcile("zellik", drift=["x"])
    assert queries_of(client, url) == expected
    grow(kind, 7)
    if kind == "reviewer":
        for _ in range(7):
            f.assignment(f.application(status=ApplicationStatus.IN_REVIEW), person, due=LONG_AGO)
    assert queries_of(client, url) == expected
    page = client.get(url).content.decode()
    assert "5 of 8 shown." in page


def test_a_deadline_passed_over_a_weekend_reads_overdue_never_due_today():
    """Friday's deadline on Saturday is zero working days ago: overdue by the calendar, without a count of
    zero; a deadline on Sunday, read on Saturday, comes before the next working day."""
    from django.template.loader import render_to_string

    from accounts.home import due_item

    friday, saturday = datetime.date(2026, 12, 4), datetime.date(2026, 12, 5)
    sunday, monday = datetime.date(2026, 12, 6), datetime.date(2026, 12, 7)

    def shown(due, today):
        item = due_item(title="AIF-2026-0001", link="/", due=due, today=today)
        with translation.override("en"):
            return item, render_to_string("portal/_work_due.html", {"item": item}).strip()

    item, text = shown(friday, saturday)
    assert (item.overdue, item.due_today, item.working_days) == (True, False, 0)
    assert text == '<strong class="overdue-label">Overdue: due 4 December 2026</strong>'
    item, text = shown(sunday, saturday)
    assert (item.overdue, item.due_today) == (False, False)
    assert text == "Due 6 December 2026, before the next working day"
    assert shown(monday, saturday)[1] == "Due 7 December 2026, in 1 working day"
    item, text = shown(saturday, saturday)
    assert item.due_today and text == "<strong>Due today, 5 December 2026</strong>"
    _item, text = shown(datetime.date(2026, 12, 3), monday)
    assert text == '<strong class="overdue-label">Overdue: due 3 December 2026, 2 working days ago</strong>'
    with translation.override("fr"):
        assert "En retard : échéance le 4 décembre 2026" in render_to_string(
            "portal/_work_due.html", {"item": due_item(title="x", link="/", due=friday, today=saturday)})
