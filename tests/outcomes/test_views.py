"""The pages of final reports and outputs: the organisation's and the managers', with their query counts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.home import sections_for
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.outcomes.models import FinalReport, FinalReportStatus, Output
from allocations.outcomes.selectors import manager_work
from tests import factories as f

pytestmark = pytest.mark.django_db


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_member_files_the_report_and_an_outsider_gets_404(client, other_org_user):
    alloc = f.ended_allocation()
    member = alloc.application.created_by
    url = reverse("outcomes:final_report", args=[alloc.reference])
    _signed_in(client, member)
    page = client.get(url)
    assert page.status_code == 200 and "Results" in page.text
    refused = client.post(url, {"results": "r", "submit": "1"})
    assert refused.status_code == 200 and "Fill in this part of the report." in refused.text
    assert FinalReport.objects.get(allocation=alloc).status == FinalReportStatus.DUE
    done = client.post(url, {"results": "r", "lessons": "l", "compute_use": "c", "ai_act_still_holds": "no",
                             "ai_act_explanation": "We now serve call centres.", "submit": "1"})
    assert done.status_code == 302
    report = FinalReport.objects.get(allocation=alloc)
    assert report.status == FinalReportStatus.SUBMITTED and report.ai_act_still_holds is False
    client.force_login(other_org_user)
    assert client.get(url).status_code == 404


def test_outputs_page_shows_the_acknowledgement_and_field_errors(client, settings):
    settings.AIF_OPERATOR_NAME = "VSC Tier-0 Operator"
    alloc = f.ended_allocation()
    _signed_in(client, alloc.application.created_by)
    url = reverse("outcomes:outputs", args=[alloc.reference])
    page = client.get(url)
    assert "VSC Tier-0 Operator" in page.text and alloc.reference in page.text
    bad = client.post(url, {"kind": "publication", "title": "Paper", "doi": "10.12/x"})
    assert bad.status_code == 200 and "This is not a DOI" in bad.text
    assert not Output.objects.exists()
    good = client.post(url, {"kind": "publication", "title": "Paper", "doi": "https://doi.org/10.5555/ok.1"})
    assert good.status_code == 302
    assert Output.objects.get().link == "https://doi.org/10.5555/ok.1"


def test_staff_list_filters_and_sorts_by_due_date(client):
    today = timezone.localdate()
    late = f.final_report(due=today - datetime.timedelta(days=3))
    soon = f.final_report(due=today + datetime.timedelta(days=3))
    _signed_in(client, f.manager())
    url = reverse("outcomes:staff_final_report_list")
    page = client.get(url)
    assert page.text.index(late.allocation.reference) < page.text.index(soon.allocation.reference)
    page = client.get(url, {"sort": "-due_date"})
    assert page.text.index(soon.allocation.reference) < page.text.index(late.allocation.reference)
    page = client.get(url, {"state": "overdue"})
    assert late.allocation.reference in page.text and soon.allocation.reference not in page.text
    # The list layer: searched by reference, bounded by due date, sorted by a header, a bad value at its field.
    page = client.get(url, {"q": soon.allocation.reference})
    assert soon.allocation.reference in page.text and late.allocation.reference not in page.text
    page = client.get(url, {"date_from": today.isoformat()})
    assert soon.allocation.reference in page.text and late.allocation.reference not in page.text
    page = client.get(url, {"sort": "reference"})
    assert 'aria-sort="ascending"><a href="?sort=-reference"' in page.text
    page = client.get(url, {"date_to": "31/12/2026", "sort": "nothing"})
    assert page.status_code == 200
    assert 'id="id_date_to_error"' in page.text and "This list cannot be sorted by" in page.text
    assert late.allocation.reference in page.text and soon.allocation.reference in page.text


@pytest.mark.parametrize("count", [2, 12])
def test_staff_list_runs_a_constant_number_of_queries(client, count, django_assert_num_queries):
    manager = f.manager()
    for _n in range(count):
        report = f.final_report()
        f.output(report.allocation)
    _signed_in(client, manager)
    url = reverse("outcomes:staff_final_report_list")
    client.get(url)  # warm the session and the caches
    # Session, user, the role's groups, the unread notifications, the page's rows (a page that fits needs no
    # count), the site and access mode menus.
    with django_assert_num_queries(7):
        page = client.get(url)
    assert page.status_code == 200 and page.text.count("/staff/final-reports/AIF-") == count


def test_manager_reviews_and_grants_an_exception(client):
    report = f.final_report(status=FinalReportStatus.SUBMITTED,
                            due=timezone.localdate() - datetime.timedelta(days=2))
    _signed_in(client, f.manager())
    url = reverse("outcomes:staff_final_report", args=[report.allocation.reference])
    refused = client.post(url, {"decision": "more", "comment": ""})
    assert refused.status_code == 200 and "Say what the report is missing." in refused.text
    assert client.post(url, {"decision": "accept"}).status_code == 302
    assert FinalReport.objects.get(pk=report.pk).status == FinalReportStatus.ACCEPTED
    overdue = f.final_report(due=timezone.localdate() - datetime.timedelta(days=2))
    exception = reverse("outcomes:staff_override", args=[overdue.allocation.reference])
    assert "reason" in client.post(exception, {"reason": ""}).text
    assert client.post(exception, {"reason": "Promised for Friday"}).status_code == 302
    assert overdue.allocation.organisation.submission_overrides.count() == 1


def test_staff_home_lists_overdue_and_submitted_reports_in_four_queries(django_assert_num_queries):
    today = timezone.localdate()
    late = f.final_report(due=today - datetime.timedelta(days=10))
    waiting = f.final_report(status=FinalReportStatus.SUBMITTED)
    manager = f.manager()
    with django_assert_num_queries(4):
        parts = manager_work(manager, today)
    overdue, to_review = parts
    assert overdue.count == 1 and late.allocation.reference in overdue.items[0].title and overdue.items[0].overdue
    assert to_review.count == 1 and waiting.allocation.reference in to_review.items[0].title
    labels = [part.label for section in sections_for(manager, today=today) for part in section.parts]
    assert "Final reports overdue" in labels and "Final reports to review" in labels


def test_the_submit_page_names_the_overdue_report(client, capacity):
    old = f.ended_allocation(ended_days_ago=45)
    member = f.applicant(old.organisation)
    app = f.complete(member, old.organisation)
    _signed_in(client, member)
    page = client.post(reverse("applications:application_submit", args=[app.reference]),
                       {"declaration_version": DECLARATION_VERSION, "declaration": "on"})
    assert page.status_code == 200
    assert "cannot submit a new application while a final report is overdue" in page.text
    assert old.reference in page.text
    app.refresh_from_db()
    assert app.status == "draft"
