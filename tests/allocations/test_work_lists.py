"""The reviewer's assignments and the managers' change requests: sorted, filtered and searched with the
same query string on the page and in the API, with the same rows; a bad parameter is a message beside
its field on the page and a 400 in the API; a reviewer never sees another's assignments nor finds a
conflicted application by its title; the number of queries does not grow with the rows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import ApplicationStatus
from allocations.grants.models import ChangeKind, ChangeRequest, ChangeStatus
from allocations.review.models import AssignmentStatus, ReviewAssignment
from tests import factories as fr
from tests.lists import api_refs, assert_refused, page_refs

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
REVIEWS = (reverse("review:assignment_list"), "/api/v1/staff/reviews/")
CHANGES = (reverse("grants:change_request_list"), "/api/v1/staff/change-requests/")


def _assign(app, reviewer, *, status=AssignmentStatus.ASSIGNED, kind="technical", due_in=10):
    return ReviewAssignment.objects.create(application=app, reviewer=reviewer, kind=kind, status=status,
                                           assigned_by=fr.manager(), due_date=TODAY + datetime.timedelta(days=due_in))


# ------------------------------------------------------------------------------------ reviews

@pytest.fixture
def reviewer():
    return fr.reviewer()


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def assignments(reviewer):
    alpha = fr.OrganisationFactory(legal_name="Alpha Robotics BV")
    beta = fr.OrganisationFactory(legal_name="Beta Climate SRL")
    apps = {
        "vision": fr.application(organisation=alpha, status=ApplicationStatus.IN_REVIEW, title="Vision for farms",
                                 sector="manufacturing", requests={"zellik": 10}),
        "speech": fr.application(organisation=beta, status=ApplicationStatus.IN_REVIEW, title="Speech in Walloon",
                                 requests={"charleroi": 10}),
        "weather": fr.application(organisation=beta, status=ApplicationStatus.IN_REVIEW, access_mode="large_scale",
                                  title="Zonal weather model", requests={"zellik": 10, "charleroi": 5}),
        "secret": fr.application(organisation=alpha, status=ApplicationStatus.IN_REVIEW, title="Secret defence radar"),
    }
    _assign(apps["vision"], reviewer, status=AssignmentStatus.ACCEPTED, due_in=5)
    _assign(apps["speech"], reviewer, status=AssignmentStatus.SUBMITTED, kind="scientific", due_in=-3)
    _assign(apps["weather"], reviewer, status=AssignmentStatus.ASSIGNED, due_in=20)
    _assign(apps["secret"], reviewer, status=AssignmentStatus.CONFLICTED, due_in=1)
    # Another reviewer's assignment, and a cancelled one of this reviewer: never listed.
    _assign(fr.application(organisation=beta, status=ApplicationStatus.IN_REVIEW, title="Speech for others"),
            fr.reviewer(), status=AssignmentStatus.ACCEPTED)
    _assign(fr.application(organisation=beta, status=ApplicationStatus.IN_REVIEW, title="Zonal cancelled"),
            reviewer, status=AssignmentStatus.CANCELLED)
    return apps


REVIEW_CASES = [
    ({}, ["vision", "weather", "secret", "speech"]),  # accepted, assigned, conflict, submitted
    ({"sort": "due_date"}, ["speech", "secret", "vision", "weather"]),
    ({"sort": "-due_date"}, ["weather", "vision", "secret", "speech"]),
    ({"sort": "organisation"}, ["vision", "secret", "speech", "weather"]),  # Alpha's two, then Beta's
    ({"sort": "kind"}, ["speech", "vision", "weather", "secret"]),
    ({"status": "submitted"}, ["speech"]),
    ({"kind": "technical", "sort": "due_date"}, ["secret", "vision", "weather"]),
    ({"site": "charleroi", "sort": "due_date"}, ["speech", "weather"]),
    ({"mode": "large_scale"}, ["weather"]),
    ({"sector": "manufacturing"}, ["vision"]),
    ({"date_from": TODAY.isoformat(), "date_to": (TODAY + datetime.timedelta(days=10)).isoformat(),
      "sort": "due_date"}, ["secret", "vision"]),
    ({"q": "beta climate", "sort": "due_date"}, ["speech", "weather"]),
    ({"q": "FARMS"}, ["vision"]),
    ({"q": "walloon"}, ["speech"]),  # review submitted: the content is readable
    ({"q": "zzz-nothing"}, []),
]


@pytest.mark.parametrize("params,expected", REVIEW_CASES, ids=[str(p) for p, _e in REVIEW_CASES])
def test_review_list_page_and_api_agree(reviewer_client, assignments, params, expected):
    want = [assignments[k].reference for k in expected]
    page, api = REVIEWS
    assert page_refs(reviewer_client, page, params) == want
    assert api_refs(reviewer_client, api, params, key="application") == want


def test_a_reviewer_finds_no_title_they_may_not_read(reviewer_client, assignments):
    page, api = REVIEWS
    # Declared a conflict, or not declared yet: the title is not an answer to a guess.
    for guess in ("radar", "zonal weather", "speech for others", "cancelled"):
        assert page_refs(reviewer_client, page, {"q": guess}) == []
        assert api_refs(reviewer_client, api, {"q": guess}, key="application") == []
    # Reference and organisation stay searchable for every assignment, the conflicted one included.
    secret = assignments["secret"]
    assert api_refs(reviewer_client, api, {"q": secret.reference}, key="application") == [secret.reference]
    body = reviewer_client.get(page, {"q": secret.reference}).content.decode()
    assert "Secret defence radar" not in body
    # No title column, so no sort by it either.
    assert_refused(reviewer_client, page, api, {"sort": "title"}, "sort", "cannot be sorted by")


def test_a_reviewer_never_sees_another_reviewers_assignments(client, assignments):
    client.force_login(fr.reviewer())
    page, api = REVIEWS
    assert page_refs(client, page, {}) == []
    assert api_refs(client, api, {"q": "beta"}, key="application") == []
    assert client.get(page, {"status": "accepted"}).status_code == 200


def test_the_review_list_stays_behind_the_reviewer_role(client, assignments):
    client.force_login(fr.manager())
    assert client.get(REVIEWS[0]).status_code == 403
    assert client.get(REVIEWS[1]).status_code == 403
    client.force_login(fr.ReviewerFactory(totp=False))  # the role holds only after a second factor
    assert client.get(REVIEWS[0]).status_code == 302
    assert client.get(REVIEWS[1]).status_code == 403


BAD = [
    ({"sort": "password"}, "sort", "cannot be sorted by"),
    ({"date_from": "12/31/2026"}, "date_from", "YYYY-MM-DD"),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to", "before its start"),
    ({"status": "cancelled"}, "status", "Select a valid choice"),
    ({"kind": "<script>"}, "kind", "Select a valid choice"),
    ({"organisation": "x"}, "organisation", "whole number"),
    ({"site": "mars"}, "site", "Select a valid choice"),
    ({"q": "x" * 101}, "q", "at most 100 characters"),
]


@pytest.mark.parametrize("params,field,message", BAD, ids=[b[1] + ":" + str(i) for i, b in enumerate(BAD)])
def test_bad_review_parameters_are_explained_never_a_500(reviewer_client, assignments, params, field, message):
    assert_refused(reviewer_client, *REVIEWS, params, field, message)


def test_review_filters_show_labels_and_keep_the_filters_in_the_headers(reviewer_client, assignments):
    body = reviewer_client.get(REVIEWS[0], {"kind": "scientific", "sort": "-due_date"}).content.decode()
    assert '<option value="scientific" selected>Scientific</option>' in body
    assert '<option value="conflicted">Conflict of interest declared</option>' in body
    assert 'href="?kind=scientific&amp;sort=reference"' in body
    assert 'aria-sort="descending"' in body


# ------------------------------------------------------------------------------------ change requests

@pytest.fixture
def manager_client(client):
    client.force_login(fr.manager())
    return client


@pytest.fixture
def change_requests():
    alpha = fr.OrganisationFactory(legal_name="Alpha Robotics BV")
    beta = fr.OrganisationFactory(legal_name="Beta Climate SRL")
    old = fr.allocation(organisation=alpha)
    mid = fr.allocation(organisation=beta)
    new = fr.allocation(organisation=beta)
    rows = {
        "old": fr.change_request(old, days_ago=30),
        "mid": fr.change_request(mid, kind=ChangeKind.TOP_UP, days_ago=20),
        "new": fr.change_request(new, days_ago=10),
    }
    ChangeRequest.objects.filter(pk=rows["mid"].pk).update(status=ChangeStatus.APPROVED, decided_at=timezone.now())
    return {k: ChangeRequest.objects.select_related("allocation").get(pk=v.pk) for k, v in rows.items()}


CHANGE_CASES = [
    ({}, ["old", "new"]),  # the bare address: the requests to decide, the longest waiting first
    ({"status": ""}, ["old", "mid", "new"]),  # "Any"
    ({"status": "", "sort": "-requested_at"}, ["new", "mid", "old"]),
    ({"status": "approved"}, ["mid"]),
    ({"kind": "top_up"}, ["mid"]),
    ({"kind": "extension", "sort": "organisation"}, ["old", "new"]),
    ({"q": "beta climate"}, ["mid", "new"]),
    ({"sector": "manufacturing"}, []),
    ({"site": "zellik"}, ["old", "mid", "new"]),  # any filter: every status unless one is chosen
    ({"site": "charleroi"}, []),
    ({"status": "", "date_from": (TODAY - datetime.timedelta(days=25)).isoformat(),
      "date_to": (TODAY - datetime.timedelta(days=15)).isoformat()}, ["mid"]),
]


@pytest.mark.parametrize("params,expected", CHANGE_CASES, ids=[str(p) for p, _e in CHANGE_CASES])
def test_change_request_list_page_and_api_agree(manager_client, change_requests, params, expected):
    want = [change_requests[k].allocation.reference for k in expected]
    page, api = CHANGES
    assert page_refs(manager_client, page, params) == want
    if params:  # the API has no "queue" default: its bare address lists every request
        assert api_refs(manager_client, api, params, key="allocation") == want
    else:
        assert api_refs(manager_client, api, {"status": "submitted"}, key="allocation") == want


def test_change_request_api_keeps_its_parameters(manager_client, change_requests):
    api = CHANGES[1]
    old = change_requests["old"]
    assert api_refs(manager_client, api, {"allocation": old.allocation.reference}, key="allocation") == [
        old.allocation.reference]
    assert api_refs(manager_client, api, {"ordering": "-requested_at"}, key="allocation")[0] == \
        change_requests["new"].allocation.reference


def test_only_open_change_requests_offer_a_decision(manager_client, change_requests):
    body = manager_client.get(CHANGES[0], {"status": ""}).content.decode()
    assert body.count('action="/staff/change-requests/') == 2
    assert reverse("grants:change_request_decide", args=[change_requests["mid"].pk]) not in body
    assert "Approved" in body and "approved<" not in body


@pytest.mark.parametrize("params,field,message", BAD[:3] + [({"kind": "upgrade"}, "kind", "Select a valid choice")],
                         ids=["sort", "date", "period", "kind"])
def test_bad_change_request_parameters_are_explained_never_a_500(manager_client, change_requests, params, field,
                                                                 message):
    assert_refused(manager_client, *CHANGES, params, field, message)


def test_the_change_request_list_stays_behind_the_manager_role(client, change_requests, reviewer):
    client.force_login(reviewer)
    assert client.get(CHANGES[0]).status_code == 403
    assert client.get(CHANGES[1]).status_code == 403


# ------------------------------------------------------------------------------------ query counts

@pytest.mark.parametrize("params", [{}, {"q": "Beta", "sort": "-due_date", "site": "zellik",
                                         "date_from": "2020-01-01"}], ids=["plain", "searched"])
def test_review_list_query_counts_do_not_grow_with_rows(reviewer_client, reviewer, params, django_assert_num_queries):
    org = fr.OrganisationFactory(legal_name="Beta Climate SRL")

    def add(count):
        for _ in range(count):
            _assign(fr.application(organisation=org, status=ApplicationStatus.IN_REVIEW), reviewer,
                    status=AssignmentStatus.ACCEPTED)

    add(2)
    counts = {}
    for url in REVIEWS:
        reviewer_client.get(url, params)
        with CaptureQueriesContext(connection) as few:
            assert reviewer_client.get(url, params).status_code == 200
        counts[url] = len(few.captured_queries)
    add(8)
    for url in REVIEWS:
        with django_assert_num_queries(counts[url]):
            assert reviewer_client.get(url, params).status_code == 200
    # A reviewer's own list is searched through the join (listquery.search's ``narrow``): no lookup of the
    # matching organisations first, so a search costs no query more.
    if params.get("q"):
        with CaptureQueriesContext(connection) as plain:
            reviewer_client.get(REVIEWS[1], {k: v for k, v in params.items() if k != "q"})
        assert counts[REVIEWS[1]] == len(plain.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "Beta", "status": "", "sort": "organisation", "kind": "extension",
                                         "date_from": "2020-01-01"}], ids=["plain", "searched"])
def test_change_request_list_query_counts_do_not_grow_with_rows(manager_client, params, django_assert_num_queries):
    org = fr.OrganisationFactory(legal_name="Beta Climate SRL")

    def add(count):
        for _ in range(count):
            fr.change_request(fr.allocation(organisation=org))

    add(2)
    counts = {}
    for url in CHANGES:
        manager_client.get(url, params)
        with CaptureQueriesContext(connection) as few:
            assert manager_client.get(url, params).status_code == 200
        counts[url] = len(few.captured_queries)
    add(8)
    for url in CHANGES:
        with django_assert_num_queries(counts[url]):
            assert manager_client.get(url, params).status_code == 200
