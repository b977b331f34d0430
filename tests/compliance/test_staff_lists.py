"""The ethics reviews and the audit trail: sorted, filtered and searched with the same query string on
the page and in the API, with the same rows; a bad parameter is a message beside its field on the page
and a 400 in the API; each stays behind its role and second factor; the number of queries does not grow
with the rows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import ApplicationStatus
from compliance.ai_act.risk import RiskClass
from compliance.models import EthicsReview, EthicsStatus
from portal.audit import AuditAction, audit_record
from portal.models import AuditChainHead, AuditEvent
from tests import factories as fr
from tests.lists import api_refs, api_rows, assert_refused, page_refs

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ETHICS = (reverse("compliance:ethics_queue"), "/api/v1/staff/ethics/reviews/")
AUDIT = (reverse("compliance:audit_event_list"), "/api/v1/staff/audit-events/")


@pytest.fixture
def officer_client(client):
    client.force_login(fr.EthicsOfficerFactory())
    return client


# ------------------------------------------------------------------------------------ ethics reviews

@pytest.fixture
def reviews():
    alpha = fr.OrganisationFactory(legal_name="Alpha Robotics BV")
    beta = fr.OrganisationFactory(legal_name="Beta Climate SRL")
    apps = {
        "vision": fr.application(organisation=alpha, status=ApplicationStatus.SUBMITTED, title="Vision for farms",
                                 sector="manufacturing", ethics=EthicsStatus.PENDING, requests={"zellik": 10},
                                 classification=RiskClass.HIGH_RISK, decision_due=TODAY + datetime.timedelta(days=9)),
        "speech": fr.application(organisation=beta, status=ApplicationStatus.SUBMITTED, title="Speech in Walloon",
                                 ethics=EthicsStatus.PENDING, requests={"charleroi": 10},
                                 decision_due=TODAY + datetime.timedelta(days=5)),
        "weather": fr.application(organisation=beta, status=ApplicationStatus.IN_REVIEW, access_mode="large_scale",
                                  title="Zonal weather model", ethics=EthicsStatus.CLEARED,
                                  requests={"zellik": 10, "charleroi": 5},
                                  decision_due=TODAY + datetime.timedelta(days=20)),
    }
    for days, app in zip((30, 20, 10), apps.values(), strict=True):  # opened on three days, vision first
        EthicsReview.objects.filter(application=app).update(created_at=timezone.now() - datetime.timedelta(days=days))
    return apps


ETHICS_CASES = [
    ({}, ["vision", "speech"]),  # the bare address: the queue, the longest waiting first
    ({"status": ""}, ["vision", "speech", "weather"]),  # "Any"
    ({"status": "", "sort": "-created_at"}, ["weather", "speech", "vision"]),
    ({"status": "", "sort": "title"}, ["speech", "vision", "weather"]),
    ({"status": "cleared"}, ["weather"]),
    ({"status": "", "risk_class": "high_risk"}, ["vision"]),
    ({"status": "", "site": "charleroi"}, ["speech", "weather"]),
    ({"status": "", "mode": "large_scale"}, ["weather"]),
    ({"status": "pending", "sector": "health"}, ["speech"]),
    ({"status": "", "q": "beta climate"}, ["speech", "weather"]),
    ({"status": "", "q": "zonal"}, ["weather"]),
    ({"status": "", "sort": "decision_due"}, ["speech", "vision", "weather"]),
    ({"status": "", "date_from": (TODAY - datetime.timedelta(days=25)).isoformat(),
      "date_to": (TODAY - datetime.timedelta(days=15)).isoformat()}, ["speech"]),
]


@pytest.mark.parametrize("params,expected", ETHICS_CASES, ids=[str(p) for p, _e in ETHICS_CASES])
def test_ethics_list_page_and_api_agree(officer_client, reviews, params, expected):
    want = [reviews[k].reference for k in expected]
    page, api = ETHICS
    assert page_refs(officer_client, page, params) == want
    api_params = params or {"status": "pending"}  # the API's bare address lists every review
    assert api_refs(officer_client, api, api_params, key="application") == want


def test_the_ethics_page_opens_on_the_queue_with_labels(officer_client, reviews):
    body = officer_client.get(ETHICS[0]).content.decode()
    assert "To review" in body
    assert '<option value="pending" selected>Awaiting ethics review</option>' in body
    assert '<option value="high_risk">High-risk AI system</option>' in body
    # A header keeps the queue's filter; the pages keep it too.
    assert 'href="?status=pending&amp;sort=title"' in body


ETHICS_BAD = [
    ({"sort": "password"}, "sort", "cannot be sorted by"),
    ({"date_from": "31.12.2026"}, "date_from", "YYYY-MM-DD"),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to", "before its start"),
    ({"status": "approved"}, "status", "Select a valid choice"),
    ({"risk_class": "' OR 1=1 --"}, "risk_class", "Select a valid choice"),
    ({"q": "x" * 101}, "q", "at most 100 characters"),
]


@pytest.mark.parametrize("params,field,message", ETHICS_BAD, ids=[b[1] for b in ETHICS_BAD])
def test_bad_ethics_parameters_are_explained_never_a_500(officer_client, reviews, params, field, message):
    assert_refused(officer_client, *ETHICS, params, field, message)


def test_the_ethics_list_stays_behind_the_ethics_officer_role(client, reviews):
    client.force_login(fr.manager())
    assert client.get(ETHICS[0]).status_code == 403
    assert client.get(ETHICS[1]).status_code == 403
    client.force_login(fr.EthicsOfficerFactory(totp=False))
    assert client.get(ETHICS[0]).status_code == 302  # to the second factor
    assert client.get(ETHICS[1]).status_code == 403


@pytest.mark.parametrize("params", [{}, {"status": "", "q": "Beta", "sort": "organisation", "site": "zellik",
                                         "date_from": "2020-01-01"}], ids=["queue", "searched"])
def test_ethics_list_query_counts_do_not_grow_with_rows(officer_client, params, django_assert_num_queries):
    org = fr.OrganisationFactory(legal_name="Beta Climate SRL")

    def add(count):
        for _ in range(count):
            fr.application(organisation=org, status=ApplicationStatus.SUBMITTED, ethics=EthicsStatus.PENDING)

    add(2)
    counts = {}
    for url in ETHICS:
        officer_client.get(url, params)
        with CaptureQueriesContext(connection) as few:
            assert officer_client.get(url, params).status_code == 200
        counts[url] = len(few.captured_queries)
    add(8)
    for url in ETHICS:
        with django_assert_num_queries(counts[url]):
            assert officer_client.get(url, params).status_code == 200


# ------------------------------------------------------------------------------------ audit trail

def _record(actor, action, target):
    with transaction.atomic():
        return audit_record(actor=actor, action=action, target=target)


@pytest.fixture
def events():
    AuditChainHead.objects.get_or_create(id=1)
    ada = fr.manager()
    ada.full_name = "Ada Lovelace"
    ada.save(update_fields=["full_name"])
    app = fr.application(status=ApplicationStatus.SUBMITTED)
    alloc = fr.allocation()
    return {
        "created": _record(None, AuditAction.APPLICATION_CREATED, app),
        "org": _record(ada, AuditAction.ORGANISATION_UPDATED, app.organisation),
        "alloc": _record(ada, AuditAction.APPLICATION_CREATED, alloc),
        "app": app, "alloc_obj": alloc, "ada": ada,
    }


def _seqs(client, url, params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    if url.startswith("/api/"):
        return [row["seq"] for row in response.json()["results"]]
    body = response.content.decode()
    tbody = body[body.index("<tbody>"):body.index("</tbody>")]
    return [int(cell) for cell in re.findall(r"<tr>\s*<td>(\d+)</td>", tbody)]


def test_audit_list_page_and_api_agree(officer_client, events):
    created, org, alloc = events["created"].seq, events["org"].seq, events["alloc"].seq
    app, ada = events["app"], events["ada"]
    for params, expected in [
        ({}, [alloc, org, created]),
        ({"sort": "seq"}, [created, org, alloc]),
        ({"action": "organisation.updated"}, [org]),
        ({"actor": ada.pk, "sort": "seq"}, [org, alloc]),
        ({"q": "lovelace"}, [alloc, org]),  # the person who acted
        ({"q": "organisation details"}, [org]),  # the action's label
        ({"q": "application."}, [alloc, created]),  # the action's stored value, from its start
        ({"q": app.reference}, [created]),  # the application, by its reference
        ({"q": events["alloc_obj"].reference}, [alloc]),  # the allocation too
        ({"date_from": TODAY.isoformat(), "date_to": TODAY.isoformat(), "sort": "seq"}, [created, org, alloc]),
        ({"date_to": (TODAY - datetime.timedelta(days=1)).isoformat()}, []),
    ]:
        seqs = [s for s in _seqs(officer_client, AUDIT[0], params) if s in (created, org, alloc)]
        assert seqs == expected, params
        seqs = [s for s in _seqs(officer_client, AUDIT[1], params) if s in (created, org, alloc)]
        assert seqs == expected, params


def test_audit_search_reads_the_action_labels_of_the_readers_language(events):
    """The labels are those of the active language, each language its own (they are kept folded per
    language after the first search): French then Dutch then English, in one process."""
    from django.utils.translation import override

    from compliance.selectors import audit_event_overview

    org = events["org"].seq
    for language, text, found in [("fr", "données de l'organisation", True),
                                  ("nl", "gegevens van de organisatie", True),
                                  ("en", "organisation details", True),
                                  ("en", "gegevens van de organisatie", False),
                                  ("fr", "GEGEVENS van de organisatie", False)]:
        with override(language):
            seqs = [e.seq for e in audit_event_overview(q=text)]
        assert (org in seqs) is found, (language, text)


def test_audit_page_reads_labels_and_references(officer_client, events):
    body = officer_client.get(AUDIT[0], {"q": events["app"].reference}).content.decode()
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    assert "Application created" in body and "application.created" not in body
    assert events["app"].reference in body and "the portal" in body
    assert "allocations.application" not in body


def test_audit_api_keeps_its_script_parameters(officer_client, events):
    app = events["app"]
    rows = api_rows(officer_client, AUDIT[1], {"object_type": "allocations.application", "object_id": app.pk})
    assert [r["seq"] for r in rows] == [events["created"].seq]
    rows = api_rows(officer_client, AUDIT[1], {"action_prefix": "organisation.", "ordering": "seq"})
    assert events["org"].seq in [r["seq"] for r in rows]


AUDIT_BAD = [
    ({"sort": "hash"}, "sort", "cannot be sorted by"),
    ({"action": "application.deleted"}, "action", "Select a valid choice"),
    ({"actor": "admin"}, "actor", "whole number"),
    ({"date_from": "2026-13-01"}, "date_from", "YYYY-MM-DD"),
    ({"q": "x" * 101}, "q", "at most 100 characters"),
]


@pytest.mark.parametrize("params,field,message", AUDIT_BAD, ids=[b[1] for b in AUDIT_BAD])
def test_bad_audit_parameters_are_explained_never_a_500(officer_client, events, params, field, message):
    assert_refused(officer_client, *AUDIT, params, field, message)


def test_the_audit_trail_is_for_ethics_officers_and_administrators(client, events):
    client.force_login(fr.manager())
    assert client.get(AUDIT[0]).status_code == 403
    assert client.get(AUDIT[1]).status_code == 403
    client.force_login(fr.AdminFactory())
    assert client.get(AUDIT[0]).status_code == 200
    assert client.get(AUDIT[1]).status_code == 200


@pytest.mark.parametrize("params", [{}, {"q": "Ada", "sort": "action", "date_from": "2020-01-01"}],
                         ids=["plain", "searched"])
def test_audit_list_query_counts_do_not_grow_with_rows(officer_client, events, params, django_assert_num_queries):
    def add(count):
        for _ in range(count):
            _record(events["ada"], AuditAction.APPLICATION_CREATED, fr.application())

    # The page names its applications' and allocations' references: one query per kind (at most two).
    add(1)
    counts = {}
    for url in AUDIT:
        officer_client.get(url, params)
        with CaptureQueriesContext(connection) as few:
            assert officer_client.get(url, params).status_code == 200
        counts[url] = len(few.captured_queries)
    add(8)
    for url in AUDIT:
        with django_assert_num_queries(counts[url]):
            assert officer_client.get(url, params).status_code == 200
    assert AuditEvent.objects.count() >= 11
