"""The managers' lists (applications, allocations) are sorted, filtered and searched with the same query
string on the page and in the API, with the same rows; a bad parameter is a message beside its field on
the page and a 400 in the API, never a 500; the number of queries does not grow with the rows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import Application, ApplicationStatus
from allocations.grants.models import Allocation, AllocationStatus
from tests import factories as fr
from tests.lists import api_refs, page_refs

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
APPLICATIONS = (reverse("review:application_list"), "/api/v1/staff/applications/")
ALLOCATIONS = (reverse("grants:staff_allocation_list"), "/api/v1/staff/allocations/")


@pytest.fixture
def manager_client(client):
    client.force_login(fr.manager())
    return client


@pytest.fixture
def applications():
    alpha = fr.OrganisationFactory(legal_name="Alpha Robotics BV")
    beta = fr.OrganisationFactory(legal_name="Beta Climate SRL")
    rows = {
        "vision": fr.application(organisation=alpha, status=ApplicationStatus.SUBMITTED, title="Vision for farms",
                                 sector="manufacturing", requests={"zellik": 10}),
        "speech": fr.application(organisation=beta, status=ApplicationStatus.IN_REVIEW, title="Speech in Walloon",
                                 sector="health", requests={"charleroi": 10}),
        "weather": fr.application(organisation=beta, status=ApplicationStatus.AWAITING_DECISION,
                                  title="Zonal weather model", sector="health", access_mode="large_scale",
                                  requests={"zellik": 10, "charleroi": 5}),
    }
    # Submitted on three different days, the vision project first.
    for days, app in zip((30, 20, 10), rows.values(), strict=True):
        Application.objects.filter(pk=app.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=days))
    return {k: Application.objects.get(pk=v.pk) for k, v in rows.items()}


CASES = [
    ({}, ["weather", "speech", "vision"]),
    ({"sort": "title"}, ["speech", "vision", "weather"]),
    ({"sort": "-title"}, ["weather", "vision", "speech"]),
    ({"sort": "submitted_at"}, ["vision", "speech", "weather"]),
    ({"sort": "organisation"}, ["vision", "speech", "weather"]),  # Alpha, then Beta's two in the order of their ids
    ({"status": "in_review"}, ["speech"]),
    ({"site": "zellik"}, ["weather", "vision"]),
    ({"mode": "large_scale"}, ["weather"]),
    ({"sector": "health", "sort": "title"}, ["speech", "weather"]),
    ({"q": "beta climate"}, ["weather", "speech"]),
    ({"q": "walloon"}, ["speech"]),
    ({"q": "zzz-nothing"}, []),
]


@pytest.mark.parametrize("params,expected", CASES, ids=[str(p) for p, _e in CASES])
def test_application_list_page_and_api_agree(manager_client, applications, params, expected):
    want = [applications[k].reference for k in expected]
    page, api = APPLICATIONS
    assert page_refs(manager_client, page, params) == want
    assert api_refs(manager_client, api, params) == want


def test_application_list_filters_by_organisation_date_and_reference_prefix(manager_client, applications):
    page, api = APPLICATIONS
    speech = applications["speech"]
    day = timezone.localdate(speech.submitted_at)
    for params, expected in [
        ({"organisation": speech.organisation_id, "sort": "title"}, ["speech", "weather"]),
        ({"date_from": day.isoformat(), "date_to": day.isoformat()}, ["speech"]),
        ({"date_from": day.isoformat(), "sort": "submitted_at"}, ["speech", "weather"]),
        ({"q": speech.reference}, ["speech"]),
        ({"q": speech.reference[:8].lower()}, ["weather", "speech", "vision"]),  # prefix, any case
    ]:
        want = [applications[k].reference for k in expected]
        assert page_refs(manager_client, page, params) == want, params
        assert api_refs(manager_client, api, params) == want, params
    # The reference matches from its start only: its middle does not.
    assert api_refs(manager_client, api, {"q": speech.reference[4:]}) == []


def test_sort_headers_say_how_the_list_is_sorted_and_keep_the_filters(manager_client, applications):
    body = manager_client.get(APPLICATIONS[0], {"status": "in_review", "sort": "-title", "page": 1}).content.decode()
    title = re.search(r'<th scope="col" aria-sort="([a-z]+)"><a href="([^"]+)" class="sort">Title', body)
    assert title.group(1) == "descending"
    assert "status=in_review" in title.group(2) and "sort=title" in title.group(2) and "page" not in title.group(2)
    assert 'aria-sort="none"><a href="?status=in_review&amp;sort=reference"' in body
    assert '<span aria-hidden="true">▼</span>' in body
    # The filter choices read as labels, never as codes.
    assert '<option value="in_review" selected>In review</option>' in body
    assert '<option value="large_scale">Large Scale</option>' in body


BAD = [
    ({"sort": "password"}, "sort", "cannot be sorted by"),
    ({"date_from": "12/31/2026"}, "date_from", "YYYY-MM-DD"),
    ({"date_from": "2026-02-30"}, "date_from", "YYYY-MM-DD"),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to", "before its start"),
    ({"status": "draft"}, "status", "Select a valid choice"),
    ({"organisation": "x"}, "organisation", "whole number"),
    ({"q": "x" * 101}, "q", "at most 100 characters"),
]


@pytest.mark.parametrize("urls", [APPLICATIONS, ALLOCATIONS], ids=["applications", "allocations"])
@pytest.mark.parametrize("params,field,message", BAD, ids=[b[1] + ":" + str(i) for i, b in enumerate(BAD)])
def test_bad_parameters_are_explained_never_a_500(manager_client, applications, urls, params, field, message):
    page, api = urls
    response = manager_client.get(page, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    response = manager_client.get(api, params)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert field in fields and message in " ".join(fields[field])


@pytest.fixture
def allocations():
    alpha = fr.OrganisationFactory(legal_name="Alpha Robotics BV")
    beta = fr.OrganisationFactory(legal_name="Beta Climate SRL")
    rows = {
        "old": fr.allocation(organisation=alpha, start=TODAY - datetime.timedelta(days=60)),
        "mid": fr.allocation(organisation=beta, start=TODAY - datetime.timedelta(days=30),
                             status=AllocationStatus.SUSPENDED),
        "new": fr.allocation(organisation=beta, start=TODAY + datetime.timedelta(days=10),
                             status=AllocationStatus.APPROVED),
    }
    return {k: Allocation.objects.get(pk=v.pk) for k, v in rows.items()}


ALLOCATION_CASES = [
    ({}, ["new", "mid", "old"]),
    ({"sort": "start_date"}, ["old", "mid", "new"]),
    ({"sort": "-end_date"}, ["new", "mid", "old"]),
    ({"status": "suspended"}, ["mid"]),
    ({"q": "alpha robotics"}, ["old"]),
    ({"site": "charleroi"}, []),
    ({"sector": "health", "sort": "start_date"}, ["old", "mid", "new"]),
    ({"date_from": (TODAY - datetime.timedelta(days=40)).isoformat(), "sort": "start_date"}, ["mid", "new"]),
]


@pytest.mark.parametrize("params,expected", ALLOCATION_CASES, ids=[str(p) for p, _e in ALLOCATION_CASES])
def test_allocation_list_page_and_api_agree(manager_client, allocations, params, expected):
    want = [allocations[k].reference for k in expected]
    page, api = ALLOCATIONS
    assert page_refs(manager_client, page, params) == want
    assert api_refs(manager_client, api, params) == want


def test_api_still_reads_ordering(manager_client, allocations):
    refs = api_refs(manager_client, ALLOCATIONS[1], {"ordering": "start_date"})
    assert refs == [allocations[k].reference for k in ("old", "mid", "new")]


@pytest.mark.parametrize("params", [{}, {"q": "Beta", "sort": "status", "sector": "health",
                                         "date_from": "2020-01-01"}], ids=["plain", "searched"])
def test_query_counts_do_not_grow_with_rows(manager_client, django_assert_max_num_queries, params):
    org = fr.OrganisationFactory(legal_name="Beta Climate SRL")

    def add(count):
        for i in range(count):
            fr.application(organisation=org, status=ApplicationStatus.SUBMITTED, title=f"Row {i}", sector="health")
            fr.allocation(organisation=org)

    urls = (APPLICATIONS[0], APPLICATIONS[1], ALLOCATIONS[0], ALLOCATIONS[1])
    add(2)
    counts = {}
    for url in urls:
        manager_client.get(url, params)
        with CaptureQueriesContext(connection) as few:
            assert manager_client.get(url, params).status_code == 200
        counts[url] = len(few.captured_queries)
    add(8)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            assert manager_client.get(url, params).status_code == 200
