"""The list page's query count does not grow with the number of applications."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.applications import services
from allocations.applications.models import Application, ApplicationStatus
from allocations.catalogue.models import AccessMode, Call
from tests import factories as f

pytestmark = pytest.mark.django_db

# Session, user, and the page: count + one page of rows (organisation, mode and call joined), the
# access modes and organisations of the filter form, the roles of the user, the header's unread
# notifications.
LIST_QUERIES = 8


def make_applications(n, *, organisation, user):
    year = timezone.localdate().year
    modes = list(AccessMode.objects.all())
    call = f.open_call()
    start = Application.objects.count()
    statuses = ApplicationStatus.values
    Application.objects.bulk_create([
        Application(reference=f"AIF-{year}-{start + i + 1:05d}", organisation=organisation, created_by=user,
                    title=f"Bulk project {start + i}", status=statuses[i % len(statuses)],
                    access_mode=modes[i % len(modes)], call=call if i % 3 == 0 else None,
                    decision_due=timezone.localdate())
        for i in range(n)])
    assert Call.objects.exists()


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("params", [{}, {"q": "Bulk", "status": "draft"}, {"page": "2"}],
                         ids=["plain", "filtered", "page-2"])
def test_list_query_count_is_constant(member_client, member, organisation, django_assert_num_queries,
                                      record_property, params):
    url = reverse("applications:application_list")
    make_applications(10, organisation=organisation, user=member)
    with django_assert_num_queries(LIST_QUERIES) as at_10_queries:
        at_10 = member_client.get(url, params)
    assert at_10.status_code == 200
    make_applications(990, organisation=organisation, user=member)
    with django_assert_num_queries(LIST_QUERIES) as at_1000_queries:
        at_1000 = member_client.get(url, params)
    rows_10 = at_10.content.decode().count('<th scope="row">')
    rows_1000 = at_1000.content.decode().count('<th scope="row">')
    count_10, count_1000 = len(at_10_queries.captured_queries), len(at_1000_queries.captured_queries)
    print(f"\napplication list {params or ''}: {count_10} queries at 10 applications ({rows_10} rows shown), "
          f"{count_1000} queries at 1,000 applications ({rows_1000} rows shown)")
    record_property("queries_at_10", count_10)
    record_property("queries_at_1000", count_1000)
    assert Application.objects.count() == 1000
    if not params:
        assert rows_10 == 10 and rows_1000 == 25


def test_dashboard_query_count_is_constant(member_client, member, organisation, capacity):
    url = reverse("dashboard")
    make_applications(3, organisation=organisation, user=member)
    few, _ = count_queries(member_client, url)
    make_applications(60, organisation=organisation, user=member)
    many, _ = count_queries(member_client, url)
    print(f"\ndashboard: {few} queries at 3 applications, {many} at 63")
    assert few == many


def test_detail_query_count_does_not_grow_with_team_or_history(member_client, member, organisation, capacity):

    app = f.complete(member, organisation)
    url = app.get_absolute_url()
    small, _ = count_queries(member_client, url)
    for i in range(15):
        services.team_member_add(actor=member, application=app, full_name=f"Person {i}",
                                 email=f"p{i}@example.eu", cluster_username=f"p{i}")
        services.application_update_step(actor=member, application=app, step="project",
                                         data={"abstract": f"Version {i}"})
    large, response = count_queries(member_client, url)
    print(f"\ndetail: {small} queries with 1 team member, {large} with 16 and 30 more events")
    assert "Person 14" in response.content.decode()
    assert small == large
