"""Query counts of every list endpoint, pinned and the same for 3 and 30 rows (no query per row).

Each request is authenticated with a token whose last use was just recorded, so the count is:
one query for the token (with its user), the endpoint's own queries, and nothing per row."""

import pytest
from rest_framework.test import APIClient

from allocations.applications.models import Application
from allocations.grants.models import ChangeRequest
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsReview
from tests import factories as f
from tests.factories import org_of as org

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.credentials(**f.auth(f.token(user)))
    client.get("/api/v1/me/")  # records the token's last use: later requests within a minute do not write
    return client


def build_organisations(user, n):
    for _ in range(n - 1):
        f.MembershipFactory(user=user)
    return client_for(user), "/api/v1/organisations/"


def build_members(user, n):
    for _ in range(n - 1):
        f.MembershipFactory(organisation=org(user))
    return client_for(user), f"/api/v1/organisations/{org(user).pk}/members/"


def build_applications(user, n):
    for i in range(n):
        f.draft(user, title=f"Project {i}")
    return client_for(user), "/api/v1/applications/"


def build_oversight_applications(user, n):
    build_applications(user, n)
    for app in Application.objects.filter(organisation=org(user)):
        f.mark_submitted(app)  # staff see no draft
    return client_for(f.EthicsOfficerFactory(totp=True)), "/api/v1/applications/"


def build_allocations(user, n):
    for _ in range(n):
        f.bare_allocation(org(user), user)
    return client_for(user), "/api/v1/allocations/"


def build_staff_allocations(user, n):
    build_allocations(user, n)
    return client_for(f.manager()), "/api/v1/staff/allocations/"


def build_change_requests(user, n):
    alloc = f.bare_allocation(org(user), user)
    for i in range(n):
        ChangeRequest.objects.create(allocation=alloc, kind="extension", payload={"end_date": "2100-01-01"},
                                     justification=f"#{i}", requested_by=user)
    return client_for(user), f"/api/v1/allocations/{alloc.reference}/change-requests/"


def build_staff_change_requests(user, n):
    build_change_requests(user, n)
    return client_for(f.manager()), "/api/v1/staff/change-requests/"


def build_staff_applications(user, n):
    boss = f.manager()
    for i in range(n):
        app = f.draft(user, title=f"Project {i}")
        f.mark_submitted(app)
    return client_for(boss), "/api/v1/staff/applications/"


def build_reviews(user, n):
    person = f.reviewer()
    boss = f.manager()
    for i in range(n):
        app = f.draft(user, title=f"Project {i}")
        ReviewAssignment.objects.create(application=app, reviewer=person, kind="technical", assigned_by=boss,
                                        status=AssignmentStatus.ASSIGNED)
    return client_for(person), "/api/v1/staff/reviews/"


def build_ethics(user, n):
    for i in range(n):
        review = EthicsReview.objects.create(application=f.draft(user, title=f"Project {i}"))
        review.conditions.create(text="Condition")
    return client_for(f.EthicsOfficerFactory(totp=True)), "/api/v1/staff/ethics/reviews/"


def build_audit(user, n):
    for i in range(n):
        f.draft(user, title=f"Project {i}")
    return client_for(f.EthicsOfficerFactory(totp=True)), "/api/v1/staff/audit-events/"


def _reports(user, n, audience):
    from compliance.models import Report

    app = f.draft(user)
    for _ in range(n):
        Report.objects.create(kind="dossier", audience=audience, application=app, requested_by=user,
                              params={"reference": app.reference})


def build_my_reports(user, n):
    _reports(user, n, "applicant")
    return client_for(user), "/api/v1/reports/"


def build_staff_reports(user, n):
    _reports(user, n, "staff")
    return client_for(f.EthicsOfficerFactory(totp=True)), "/api/v1/staff/reports/"


# endpoint -> (builder, pinned number of queries for one page)
PINNED = {
    "organisations": (build_organisations, 4),
    "members": (build_members, 5),
    "applications": (build_applications, 4),
    "applications (oversight)": (build_oversight_applications, 5),
    "allocations": (build_allocations, 7),
    "staff allocations": (build_staff_allocations, 8),
    "change requests": (build_change_requests, 7),
    "staff change requests": (build_staff_change_requests, 5),
    "staff applications": (build_staff_applications, 6),
    "staff reviews": (build_reviews, 5),
    "staff ethics reviews": (build_ethics, 6),
    "staff audit events": (build_audit, 5),
    "reports": (build_my_reports, 4),
    "staff reports": (build_staff_reports, 5),
}


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("endpoint", list(PINNED))
def test_list_query_count_is_pinned_and_constant(endpoint, rows, applicant, django_assert_num_queries):
    builder, expected = PINNED[endpoint]
    client, path = builder(applicant, rows)
    with django_assert_num_queries(expected):
        response = client.get(path, {"page_size": 50})
    assert response.status_code == 200
    assert response.json()["count"] >= rows

