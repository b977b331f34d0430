"""Lists that grew without bound at scale (bench/pages.py): paginated, a constant number of queries, and no
menu of every organisation. The counts are pinned the same for a few rows and for more than a page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Organisation
from allocations.applications.models import ApplicationStatus
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsStatus
from tests import factories as fr

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_reviewer_queue_is_paginated_with_constant_queries():
    person, boss = fr.reviewer(), fr.manager()
    url = reverse("review:assignment_list")

    def assign(n):
        for _ in range(n):
            app = fr.application(status=ApplicationStatus.IN_REVIEW)
            ReviewAssignment.objects.create(application=app, reviewer=person, kind="technical",
                                            status=AssignmentStatus.ACCEPTED, assigned_by=boss)

    client = signed_in(person)
    assign(3)
    few, page = queries(client, url)
    assign(27)
    many, page = queries(client, url)
    assert many == few  # one person's list: its count comes with its rows (COUNT(*) OVER ())
    assert page.count('rel="next"') == 1 and "30 assignments" in page
    assert page.count("<tr>") - 1 == 25  # header row + one page


def test_the_reviewers_list_marks_its_overdue_rows_from_the_page_it_read():
    """An open assignment past its due date, whose application is still in review, says how late it is;
    one not yet due, one submitted, and one whose application has moved on do not. The marks come from
    the rows of the page: the same number of queries whatever the number of overdue rows."""
    import datetime

    from django.utils import timezone

    person, boss = fr.reviewer(), fr.manager()
    today = timezone.localdate()
    past, future = today - datetime.timedelta(days=14), today + datetime.timedelta(days=14)

    def assign(due, status=AssignmentStatus.ACCEPTED, app_status=ApplicationStatus.IN_REVIEW, title="Late one"):
        app = fr.application(status=app_status, title=title)
        ReviewAssignment.objects.create(application=app, reviewer=person, kind="technical", status=status,
                                        assigned_by=boss, due_date=due)
        return app

    late = assign(past)
    assign(future, title="Not yet due")
    assign(past, status=AssignmentStatus.SUBMITTED, title="Submitted")
    assign(past, app_status=ApplicationStatus.AWAITING_DECISION, title="Moved on")
    client = signed_in(person)
    few, page = queries(client, reverse("review:assignment_list"))
    assert page.count("working days overdue") == 1
    row = page.split(late.reference, 1)[1].split("</tr>", 1)[0]
    assert "working days overdue" in row
    assign(past)
    assign(past)
    more, page = queries(client, reverse("review:assignment_list"))
    assert page.count("working days overdue") == 3
    assert more == few


def test_ethics_queue_is_paginated_with_constant_queries():
    officer = fr.EthicsOfficerFactory(totp=True)
    url = reverse("compliance:ethics_queue")
    client = signed_in(officer)
    for _ in range(3):
        fr.application(ethics=EthicsStatus.PENDING)
    few, _ = queries(client, url)
    for _ in range(27):
        fr.application(ethics=EthicsStatus.PENDING)
    many, page = queries(client, url)
    assert many == few + 1  # the count: a first page that holds the whole list is counted from its rows
    assert '<span class="badge">30</span>' in page and 'rel="next"' in page


def test_the_ethics_queue_lists_a_few_conditions_awaiting_acknowledgement_oldest_first():
    """At scale thousands of conditions may wait for the applicants: the queue lists the oldest ten, each
    linked to its review, says that more wait, and reads them in one query whatever their number."""
    from compliance.views import CONDITIONS_SHOWN

    officer = fr.EthicsOfficerFactory(totp=True)
    url = reverse("compliance:ethics_queue")
    client = signed_in(officer)
    apps = [fr.application(ethics=EthicsStatus.PENDING) for _ in range(3)]
    for app in apps:
        fr.add_condition(app, text=f"Condition of {app.reference}")
    few, page = queries(client, url)
    assert all(f"Condition of {app.reference}" in page for app in apps)
    assert "more are waiting" not in page
    assert reverse("compliance:ethics_review", args=[apps[0].reference]) in page
    more = [fr.application(ethics=EthicsStatus.PENDING) for _ in range(CONDITIONS_SHOWN)]
    for app in more:
        fr.add_condition(app, text=f"Condition of {app.reference}")
    many, page = queries(client, url)
    section = page.split('id="ack-heading"', 1)[1].split("</section>", 1)[0]
    assert section.count("<li>") == CONDITIONS_SHOWN
    assert f"The {CONDITIONS_SHOWN} oldest conditions are shown; more are waiting." in section
    assert many == few


def test_oversight_list_offers_no_menu_of_every_organisation():
    boss = fr.manager()
    apps = [fr.application() for _ in range(3)]
    client = signed_in(boss)
    count_3, page = queries(client, reverse("applications:application_list"))
    assert '<select name="organisation"' not in page
    for _ in range(5):
        fr.application()
    count_8, _ = queries(client, reverse("applications:application_list"))
    assert count_3 == count_8
    # An organisation named by id in a link still filters; its name finds it through the search box.
    target = Organisation.objects.get(pk=apps[0].organisation_id)
    _, by_id = queries(client, reverse("applications:application_list") + f"?organisation={target.pk}")
    assert apps[0].reference in by_id and apps[1].reference not in by_id
    _, by_name = queries(client, reverse("applications:application_list") + f"?q={target.legal_name}")
    assert apps[0].reference in by_name


def test_a_review_due_on_friday_reads_overdue_on_saturday_without_a_count_of_zero(monkeypatch):
    import datetime

    from django.utils import timezone

    saturday = datetime.date(2026, 12, 5)
    real = timezone.localdate
    monkeypatch.setattr("django.utils.timezone.localdate",
                        lambda value=None, timezone=None: saturday if value is None else real(value, timezone))
    person, boss = fr.reviewer(), fr.manager()
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    ReviewAssignment.objects.create(application=app, reviewer=person, kind="technical",
                                    status=AssignmentStatus.ACCEPTED, assigned_by=boss,
                                    due_date=datetime.date(2026, 12, 4))
    page = signed_in(person).get(reverse("review:assignment_list")).content.decode()
    row = page.split(app.reference, 1)[1].split("</tr>", 1)[0]
    assert '<strong class="status-rejected">overdue</strong>' in row
    assert "0 working days" not in page
