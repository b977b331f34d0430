"""Staff lists cost a fixed number of queries; deadlines and capacity pages; reminder e-mails."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import Application, ApplicationStatus, RequestedResource
from allocations.applications.services import next_application_reference
from allocations.catalogue.models import SiteCapacity
from allocations.grants.models import AllocationStatus
from allocations.review import selectors, services, tasks
from portal.paging import PAGE_SIZE
from tests import factories as fr

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _bulk_applications(count: int):
    org = fr.OrganisationFactory()
    member = fr.applicant(org)
    mode = fr.mode()
    apps = Application.objects.bulk_create([
        Application(reference=next_application_reference(), organisation=org, created_by=member,
                    status=ApplicationStatus.SUBMITTED, title=f"Bulk {i}", access_mode=mode,
                    submitted_at=timezone.now(), decision_due=TODAY) for i in range(count)])
    zellik, charleroi = fr.site("zellik"), fr.site("charleroi")
    RequestedResource.objects.bulk_create(
        [RequestedResource(application=a, site=zellik, gpu_hours=10) for a in apps]
        + [RequestedResource(application=a, site=charleroi, gpu_hours=10) for a in apps[::2]])


# Session, user, groups (roles), filter choices (modes, sites), count, page rows, their requested sites (one
# prefetch), the header's unread notifications: the same at 10 and at 200 applications. The second factor is
# read from the session: no query.
OVERVIEW_QUERIES = 9


@pytest.mark.parametrize("params", [{}, {"status": "submitted", "mode": "fast_lane", "site": "charleroi",
                                          "q": "Bulk"}], ids=["unfiltered", "filtered"])
def test_application_overview_query_count_is_constant(client, django_assert_num_queries, params):
    client.force_login(fr.manager())
    url = reverse("review:application_list")
    # On PostgreSQL a search looks up the matching organisations first, on their trigram index
    # (portal.listquery.search): one query more, whatever the number of rows.
    expected = OVERVIEW_QUERIES + (1 if params.get("q") and connection.vendor == "postgresql" else 0)

    def counted() -> int:
        """The paginator's count is a query only when the list is longer than a page (portal.paging.page_of)."""
        longer = selectors.application_overview(**{k: v for k, v in params.items()}).count() > PAGE_SIZE
        return expected if longer else expected - 1

    _bulk_applications(10)
    with django_assert_num_queries(counted()):
        first = client.get(url, params)
    _bulk_applications(190)
    with django_assert_num_queries(counted()):
        second = client.get(url, params)
    assert first.status_code == second.status_code == 200
    if not params:
        assert first.content.decode().count("<tr>") == 11  # header + 10 rows
        assert second.content.decode().count("<tr>") == 26  # header + one page of 25


def test_application_overview_filters_and_paginates(client):
    client.force_login(fr.manager())
    _bulk_applications(30)
    other = fr.application(status=ApplicationStatus.AWAITING_DECISION, requests={"charleroi": 5},
                           title="Weather foundation model")
    fr.application(status=ApplicationStatus.DRAFT, title="Draft never shown")
    url = reverse("review:application_list")
    page1 = client.get(url).content.decode()
    assert "Page 1 of 2" in page1 and "Draft never shown" not in page1
    page = client.get(url, {"status": "awaiting_decision"}).content.decode()
    assert other.reference in page and "Bulk 1" not in page
    page = client.get(url, {"q": "weather"}).content.decode()
    assert other.reference in page
    page = client.get(url, {"site": "charleroi", "page": 2}).content.decode()
    assert "Page 2 of 2" not in page or "Bulk" in page


def test_allocation_list_query_count_is_constant(client, django_assert_num_queries):
    client.force_login(fr.manager())
    fr.allocation()
    client.get(reverse("grants:staff_allocation_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("grants:staff_allocation_list"))
    for _ in range(5):
        fr.allocation()
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("grants:staff_allocation_list"))


# --- deadlines ------------------------------------------------------------------------------------

def test_overdue_board_in_working_days(client):
    monday = TODAY - datetime.timedelta(days=TODAY.weekday())
    late = fr.application(status=ApplicationStatus.AWAITING_DECISION, decision_due=monday - datetime.timedelta(days=7))
    soon = fr.application(status=ApplicationStatus.SUBMITTED, decision_due=TODAY)
    later = fr.application(status=ApplicationStatus.SUBMITTED, decision_due=TODAY + datetime.timedelta(days=30))
    closed = fr.application(status=ApplicationStatus.REJECTED, decision_due=monday - datetime.timedelta(days=7))
    rows = {r.obj.pk: r for r in selectors.applications_due(today=TODAY)}
    assert set(rows) == {late.pk, soon.pk}
    assert rows[late.pk].overdue and rows[late.pk].working_days >= 5
    assert not rows[soon.pk].overdue
    client.force_login(fr.manager())
    page = client.get(reverse("review:overdue")).content.decode()
    assert late.reference in page and soon.reference in page
    assert later.reference not in page and closed.reference not in page
    assert "working days overdue" in page or "working day overdue" in page


def test_the_deadlines_board_pages_each_list_on_its_own(client):
    """A busy centre has more late decisions than a page holds: each list has its own pages, the other's kept."""
    from portal.paging import PAGE_SIZE

    due = TODAY - datetime.timedelta(days=14)
    apps = [fr.application(status=ApplicationStatus.AWAITING_DECISION,
                           decision_due=due - datetime.timedelta(days=n)) for n in range(PAGE_SIZE + 2)]
    client.force_login(fr.manager())
    url = reverse("review:overdue")
    first = client.get(url).content.decode()
    assert f"{PAGE_SIZE + 2} applications, the most overdue first" in first
    assert apps[-1].reference in first and apps[0].reference not in first  # the most overdue first
    assert "?decisions=2" in first
    reviews = first.split('id="assign-heading"', 1)[1]
    assert "Nothing overdue." in reviews and "0 reviews" not in reviews  # an empty list says so once
    second = client.get(url, {"decisions": "2", "reviews": "1"}).content.decode()
    assert apps[0].reference in second and apps[1].reference in second and apps[-1].reference not in second
    assert "reviews=1" in second  # the other list's page stays in the links
    assert client.get(url, {"decisions": "x"}).status_code == 200


def test_overdue_assignments_and_reminders(mailoutbox, run_on_commit):
    app = fr.application(status=ApplicationStatus.IN_REVIEW, decision_due=TODAY - datetime.timedelta(days=10))
    slow = fr.reviewer()
    assignment = services.reviewer_assign(actor=fr.manager(), application=app, reviewer=slow, kind="technical")
    assert assignment.due_date == app.decision_due
    boss = fr.manager()
    with run_on_commit():
        sent = tasks.deadline_reminders()
    assert sent == {"managers": 1, "reviewers": 1}
    to_manager = next(m for m in mailoutbox if boss.email in m.to)
    assert app.reference in to_manager.body and "overdue" in to_manager.body
    assert to_manager.subject.startswith("[AI Factory] Deadlines: ")
    assert f"{settings.PORTAL_BASE_URL}/staff/deadlines/" in to_manager.body
    to_reviewer = next(m for m in mailoutbox if m.to == [slow.email])
    assert app.reference in to_reviewer.body and "overdue" in to_reviewer.subject
    assert to_reviewer.subject.startswith("[AI Factory] Reminder: ")
    assert f"{settings.PORTAL_BASE_URL}/staff/reviews/" in to_reviewer.body


def test_no_reminders_when_nothing_is_due(mailoutbox, run_on_commit):
    fr.manager()
    fr.application(status=ApplicationStatus.SUBMITTED, decision_due=TODAY + datetime.timedelta(days=30))
    with run_on_commit():
        assert tasks.deadline_reminders() == {"managers": 0, "reviewers": 0}
    assert mailoutbox == []


# --- capacity ---------------------------------------------------------------------------------------

def test_capacity_page_shows_granted_versus_capacity(client):
    cap = fr.set_capacity(period=TODAY, gpu_hours=8000)
    SiteCapacity.objects.filter(pk=cap.pk).update(committed_gpu_hours=2000)
    client.force_login(fr.manager())
    page = client.get(reverse("grants:capacity"), {"year": TODAY.year}).content.decode()
    quarter = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
    assert quarter in page and "(25%)" in page
    cells = [c.strip() for c in page.split(f'<th scope="row">{cap.site.name}</th>', 1)[1].split("</tr>")[0]
             .split("<td>")[1:]]
    assert cells[0].startswith("8,000") and "2,000 (25%)" in cells[1] and cells[3].startswith("6,000")


def test_allocation_list_filters(client):
    client.force_login(fr.manager())
    active = fr.allocation(status=AllocationStatus.ACTIVE)
    revoked = fr.allocation(status=AllocationStatus.REVOKED)
    page = client.get(reverse("grants:staff_allocation_list"), {"status": "revoked"}).content.decode()
    assert revoked.reference in page and active.reference not in page
