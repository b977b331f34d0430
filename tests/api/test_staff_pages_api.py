"""The staff's read-only pages through the API: capacity, the deadlines board, the ethics workspace."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from allocations.catalogue.models import SiteCapacity
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsReview
from tests import factories as f

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    """A token client whose last use is already recorded, so that query counts hold no token write."""
    client = APIClient()
    client.credentials(**f.auth(f.token(user)))
    client.get("/api/v1/me/")
    return client


# ------------------------------------------------------------------------------------ staff: roles

STAFF_PAGES = [
    ("allocation_manager", "/api/v1/staff/capacity/"),
    ("allocation_manager", "/api/v1/staff/deadlines/applications/"),
    ("allocation_manager", "/api/v1/staff/deadlines/reviews/"),
    ("ethics_officer", "/api/v1/staff/ethics/workspace/"),
]


@pytest.mark.parametrize("role,path", STAFF_PAGES)
def test_each_staff_page_needs_its_role_and_a_second_factor(as_user, client, applicant, role, path):
    assert as_user(f.STAFF_FACTORIES[role](totp=True)).get(path).status_code == 200
    response = as_user(applicant).get(path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    for other in ("reviewer", "allocation_manager", "ethics_officer", "operator"):
        if other != role:
            assert as_user(f.STAFF_FACTORIES[other](totp=True)).get(path).status_code == 403, other
    no_mfa = as_user(f.STAFF_FACTORIES[role](totp=False)).get(path)
    assert no_mfa.status_code == 403 and no_mfa.json()["error"]["code"] == "mfa_required"
    client.force_login(f.STAFF_FACTORIES[role](totp=False))
    assert client.get(path).json()["error"]["code"] == "mfa_required"


# ------------------------------------------------------------------------------------ staff: capacity

def test_capacity_per_site_and_quarter(as_user, boss, capacity):
    today = timezone.localdate()
    cap = SiteCapacity.objects.filter(period_start__year=today.year).select_related("site").first()
    SiteCapacity.objects.filter(pk=cap.pk).update(committed_gpu_hours=100_000)
    data = as_user(boss).get("/api/v1/staff/capacity/").json()
    assert data["year"] == today.year and today.year in data["years"]
    quarters = {q["label"]: q for q in data["quarters"]}
    label = f"{cap.period_start:%Y}-Q{(cap.period_start.month - 1) // 3 + 1}"
    row = next(s for s in quarters[label]["sites"] if s["site"] == cap.site.code)
    assert row["committed_gpu_hours"] == 100_000 and row["remaining_gpu_hours"] == 300_000
    assert row["gpu_percent"] == 25 and row["site_name"] == cap.site.name
    later = as_user(boss).get("/api/v1/staff/capacity/", {"year": today.year + 1}).json()
    assert later["year"] == today.year + 1 and all(q["label"].startswith(str(today.year + 1))
                                                    for q in later["quarters"])


@pytest.mark.parametrize("year", ["abc", "1999", "3000"])
def test_capacity_refuses_a_bad_year(as_user, boss, year):
    response = as_user(boss).get("/api/v1/staff/capacity/", {"year": year})
    assert response.status_code == 400 and "year" in response.json()["error"]["fields"]


@pytest.mark.parametrize("sites_per_quarter", [1, 3])
def test_capacity_query_count_is_pinned(boss, capacity, sites_per_quarter, django_assert_num_queries):
    client = client_for(boss)
    SiteCapacity.objects.exclude(site__code__in=list(
        SiteCapacity.objects.values_list("site__code", flat=True).distinct().order_by("site__code")
        [:sites_per_quarter])).delete()
    # token, roles, authenticator; the years; the capacities with their sites; the reservations with their usage
    with django_assert_num_queries(6):
        response = client.get("/api/v1/staff/capacity/")
    assert response.status_code == 200


# ------------------------------------------------------------------------------------ staff: deadlines

def overdue_applications(user, n: int):
    past = timezone.localdate() - datetime.timedelta(days=10)
    apps = [f.draft(user, title=f"Project {i}") for i in range(n)]
    for app in apps:
        type(app).objects.filter(pk=app.pk).update(status="in_review", decision_due=past)
    return apps


def overdue_assignments(user, n: int):
    person, boss = f.reviewer(), f.manager()
    past = timezone.localdate() - datetime.timedelta(days=10)
    return [ReviewAssignment.objects.create(application=app, reviewer=person, kind="technical", assigned_by=boss,
                                            status=AssignmentStatus.ASSIGNED, due_date=past)
            for app in overdue_applications(user, n)]


def test_deadlines_board_lists_what_the_page_lists(as_user, applicant, boss):
    late = overdue_assignments(applicant, 2)
    on_time = f.draft(applicant, title="Not late")
    type(on_time).objects.filter(pk=on_time.pk).update(
        status="in_review", decision_due=timezone.localdate() + datetime.timedelta(days=30))
    client = as_user(boss)
    apps = client.get("/api/v1/staff/deadlines/applications/").json()
    assert apps["count"] == 2 and {r["reference"] for r in apps["results"]} == {a.application.reference for a in late}
    row = apps["results"][0]
    assert row["overdue"] is True and row["working_days"] > 0 and row["status"] == "in_review"
    assert row["organisation"]["legal_name"] == late[0].application.organisation.legal_name
    reviews = client.get("/api/v1/staff/deadlines/reviews/").json()
    assert reviews["count"] == 2
    assert {r["id"] for r in reviews["results"]} == {a.pk for a in late}
    assert reviews["results"][0]["reviewer"] == late[0].reviewer.display_name
    assert client.get("/api/v1/staff/deadlines/reviews/", {"page": 9}).status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("path,expected", [("/api/v1/staff/deadlines/applications/", 4),
                                           ("/api/v1/staff/deadlines/reviews/", 4)])
def test_deadlines_query_count_is_pinned(applicant, rows, path, expected, django_assert_num_queries):
    overdue_assignments(applicant, rows)
    client = client_for(f.manager())
    with django_assert_num_queries(expected):  # token, roles, authenticator; the rows with what they show
        response = client.get(path, {"page_size": 50})
    assert response.status_code == 200 and response.json()["count"] == rows


# ------------------------------------------------------------------------------------ staff: ethics workspace

def test_ethics_workspace_counts(as_user, applicant, capacity):
    for i in range(3):
        EthicsReview.objects.create(application=f.draft(applicant, title=f"Project {i}"))
    decided = EthicsReview.objects.create(application=f.draft(applicant, title="Decided"),
                                          status="cleared_with_conditions", decided_at=timezone.now())
    decided.conditions.create(text="Delete raw images")
    submitted = f.submitted(applicant)
    data = as_user(f.EthicsOfficerFactory(totp=True)).get("/api/v1/staff/ethics/workspace/").json()
    assert data["pending"] == 3 + EthicsReview.objects.filter(application=submitted, status="pending").count()
    assert data["conditions_awaiting_acknowledgement"] == 1
    assert sum(r["count"] for r in data["by_sector"]) == 1
    assert data["by_sector"][0] == {"key": "health", "label": "Health", "count": 1, "percent": 100}
    assert sum(r["count"] for r in data["by_risk_class"]) == 1


def test_ethics_workspace_query_count_is_pinned(applicant, django_assert_num_queries):
    for i in range(5):
        EthicsReview.objects.create(application=f.draft(applicant, title=f"Project {i}"))
    client = client_for(f.EthicsOfficerFactory(totp=True))
    with django_assert_num_queries(7):  # token, roles, authenticator; two counts; risk classes; sectors
        assert client.get("/api/v1/staff/ethics/workspace/").status_code == 200
