"""The staff lists' search on PostgreSQL: the trigram indexes exist, the planner can use them for the
reference, the title and the organisation name, and the rows found are those SQLite finds."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from allocations.applications.models import Application, ApplicationStatus
from allocations.grants.models import Allocation
from allocations.grants.selectors import allocation_overview, change_request_overview
from allocations.review.models import AssignmentStatus, ReviewAssignment
from allocations.review.selectors import application_overview, assignment_overview
from compliance.models import EthicsStatus
from compliance.selectors import ethics_overview
from portal.listquery import search
from tests import factories as fr

pytestmark = [pytest.mark.postgres]

INDEXES = {"application_title_trgm", "application_reference_trgm", "allocation_reference_trgm",
           "organisation_name_trgm", "user_full_name_trgm", "user_email_trgm"}


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny tables: ask whether a bitmap scan of an index can serve the condition at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_trigram_indexes_exist(postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        assert INDEXES <= {row[0] for row in cursor.fetchall()}


def test_the_audit_trail_looks_a_reference_up_on_its_own_index(postgres):
    """Every reference shares the trigrams of "AIF-2026-": the trail looks the references up from their start
    on their b-tree index (the unique column's pattern index), in capitals whatever the case typed."""
    from compliance.selectors import audit_event_overview
    from portal.audit import AuditAction, audit_record

    app = fr.application(status=ApplicationStatus.SUBMITTED)
    with transaction.atomic():
        event = audit_record(actor=None, action=AuditAction.APPLICATION_STATUS_CHANGED, target=app,
                             changes={"status": "submitted"})
    with CaptureQueriesContext(connection) as ctx:
        assert list(audit_event_overview(q=app.reference[:-1].lower())) == [event]
    lookups = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith('SELECT "allocations_application"."id"') and "reference" in q["sql"]]
    assert len(lookups) == 1, ctx.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + lookups[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "allocations_application_reference_" in plan and "_like" in plan and "trgm" not in plan, plan


def test_search_finds_by_reference_prefix_title_and_organisation_through_the_indexes(postgres):
    org = fr.OrganisationFactory(legal_name="Zeta Quantum Labs NV")
    named = fr.application(organisation=org, status=ApplicationStatus.SUBMITTED, title="Tidal energy forecasts")
    other = fr.application(status=ApplicationStatus.SUBMITTED, title="Speech for hospitals")
    assert list(application_overview(q="quantum labs")) == [named]
    assert list(application_overview(q="TIDAL ENERGY")) == [named]
    assert list(application_overview(q=other.reference.lower())) == [other]
    assert list(application_overview(q=other.reference[3:])) == []  # the reference matches from its start
    plan = _plan(Organisation.objects.filter(legal_name__icontains="quantum labs"))
    assert "organisation_name_trgm" in plan
    plan = _plan(search(Application.objects.all(), "tidal energy", reference="reference", fields=["title"],
                        organisation=("organisation", "legal_name")))
    assert "application_title_trgm" in plan and "application_reference_trgm" in plan
    assert "BitmapOr" in plan  # the three conditions combined, no scan of the join


def test_the_audit_trail_finds_people_through_the_indexes(postgres):
    """The trail's search looks up the people who acted by name or e-mail first: through the trigram
    indexes, not by reading every account."""
    from django.db.models import Q

    from accounts.models import User
    from compliance.selectors import audit_event_overview
    from portal.audit import AuditAction, audit_record

    person = fr.UserFactory(full_name="Ingrid Vandersteen", email="ingrid.v@example.org")
    fr.UserFactory(full_name="Someone Else", email="else@example.org")
    app = fr.application()
    with transaction.atomic():
        audit_record(actor=person, action=AuditAction.APPLICATION_CREATED, target=app)
    assert [e.actor_id for e in audit_event_overview(q="vandersteen")] == [person.pk]
    assert [e.actor_id for e in audit_event_overview(q="INGRID.V@")] == [person.pk]
    plan = _plan(User.objects.filter(Q(full_name__icontains="vandersteen") | Q(email__icontains="vandersteen")))
    assert "user_full_name_trgm" in plan and "user_email_trgm" in plan


def test_allocation_search_uses_the_reference_index(postgres):
    alloc = fr.allocation(organisation=fr.OrganisationFactory(legal_name="Omega Vision SRL"))
    assert list(allocation_overview(q="omega vision")) == [alloc]
    assert list(allocation_overview(q=alloc.reference)) == [alloc]
    assert "allocation_reference_trgm" in _plan(search(Allocation.objects.all(), alloc.reference,
                                                       reference="reference"))


def test_the_other_lists_search_through_a_related_organisation(postgres, django_assert_num_queries):
    """The ethics reviews and change requests reach the organisation through the application or the
    allocation: the matching organisations are still looked up first, in one query. A reviewer's own list
    (a few hundred rows at most) is searched through the join, in one query."""
    org = fr.OrganisationFactory(legal_name="Zeta Quantum Labs NV")
    app = fr.application(organisation=org, status=ApplicationStatus.SUBMITTED, title="Tidal energy forecasts",
                         ethics=EthicsStatus.PENDING)
    fr.application(status=ApplicationStatus.SUBMITTED, title="Speech for hospitals", ethics=EthicsStatus.PENDING)
    reviewer = fr.reviewer()
    ReviewAssignment.objects.create(application=app, reviewer=reviewer, kind="technical",
                                    status=AssignmentStatus.ACCEPTED, assigned_by=fr.manager())
    cr = fr.change_request(fr.allocation(organisation=org))
    with django_assert_num_queries(2):  # the organisations, then the rows
        assert [r.application_id for r in ethics_overview(status="pending", q="quantum labs")] == [app.pk]
    with django_assert_num_queries(1):
        assert [a.application_id for a in assignment_overview(reviewer=reviewer, q="QUANTUM")] == [app.pk]
    with django_assert_num_queries(2):
        assert list(change_request_overview(q="zeta quantum")) == [cr]
    assert [r.application_id for r in ethics_overview(q="tidal energy")] == [app.pk]


def test_the_audit_trail_searched_by_a_reference_or_an_id_reads_the_events_through_their_indexes(postgres):
    """A reference reads the events of the objects it names on the index of objects; an object's id alone (a
    number: the search also matches it) has an index of its own. Without them PostgreSQL read the whole trail
    backwards by number (1.6 s at 500,000 events)."""
    from compliance.selectors import audit_event_overview
    from portal.audit import AuditAction, audit_record

    app = fr.application(status=ApplicationStatus.SUBMITTED)
    audit_record(actor=None, action=AuditAction.APPLICATION_STATUS_CHANGED, target=app,
                 changes={"status": "submitted"})
    plan = _plan(audit_event_overview(q=app.reference).order_by("-seq"))  # either index of objects serves it
    assert re.search(r"audit_object(_id)?_idx", plan) and "Seq Scan on compliance_auditevent" not in plan, plan
    assert [e.object_id for e in audit_event_overview(q=app.reference)] >= [str(app.pk)]
    plan = _plan(audit_event_overview(q=str(app.pk)).order_by("-seq"))
    assert "audit_object_id_idx" in plan and "Seq Scan on compliance_auditevent" not in plan, plan


def test_the_audit_trail_searched_by_an_action_is_counted_from_the_index_of_actions(postgres):
    """A text that is no number asks nothing of the objects' ids: searched by an action alone, the trail's
    count reads the index of actions only (an index-only scan), not the events (the condition on the ids
    made PostgreSQL read every matching event: 62 ms for 57,000 of 500,000). A number still finds the
    events of the object it names."""
    from compliance.selectors import audit_event_overview
    from portal.audit import AuditAction, audit_record

    app = fr.application(status=ApplicationStatus.SUBMITTED)
    with transaction.atomic():
        changed = audit_record(actor=None, action=AuditAction.APPLICATION_STATUS_CHANGED, target=app,
                               changes={"status": "submitted"})
    found = audit_event_overview(q="application.status_changed")
    assert list(found) == [changed]
    sql, params = found.order_by().values("action").query.sql_with_params()
    assert "object_id" not in sql
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan" in plan, plan
    assert list(audit_event_overview(q=str(app.pk))) == [changed]  # the object, by its id
