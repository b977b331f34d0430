"""Staff endpoints: reviewers, the access committee, ethics officers and the audit trail."""

import pytest
from rest_framework.test import APIClient

from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import ApplicationStatus
from allocations.grants.models import AllocationStatus, ChangeStatus
from allocations.grants.services import change_request_submit
from allocations.review import services
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsStatus
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

STAFF_ROLE_ENDPOINTS = [
    ("reviewer", "get", "/api/v1/staff/reviews/"),
    ("allocation_manager", "get", "/api/v1/staff/applications/"),
    ("allocation_manager", "get", "/api/v1/staff/allocations/"),
    ("allocation_manager", "get", "/api/v1/staff/change-requests/"),
    ("ethics_officer", "get", "/api/v1/staff/ethics/reviews/"),
    ("ethics_officer", "get", "/api/v1/staff/audit-events/"),
]


@pytest.mark.parametrize("role,method,path", STAFF_ROLE_ENDPOINTS)
def test_each_staff_list_needs_its_role(as_user, applicant, role, method, path):
    assert getattr(as_user(applicant), method)(path).status_code == 403
    holder = f.STAFF_FACTORIES[role](totp=True)
    assert getattr(as_user(holder), method)(path).status_code == 200
    others = [r for r in ("reviewer", "allocation_manager", "ethics_officer") if r != role]
    for other in others:
        response = getattr(as_user(f.STAFF_FACTORIES[other](totp=True)), method)(path)
        assert response.status_code == 403, (other, path)
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role,method,path", STAFF_ROLE_ENDPOINTS)
def test_staff_endpoints_need_a_second_factor_with_a_session_too(client, role, method, path):
    client.force_login(f.STAFF_FACTORIES[role](totp=False))  # no authenticator
    response = getattr(client, method)(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_audit_is_for_ethics_officers_and_administrators_only(as_user):
    assert as_user(f.AdminFactory(totp=True)).get("/api/v1/staff/audit-events/").status_code == 200
    assert as_user(f.OperatorFactory(totp=True)).get("/api/v1/staff/audit-events/").status_code == 403


# ------------------------------------------------------------------------------------ reviewers

@pytest.fixture
def assignment(applicant, boss, capacity):
    app = f.in_review(applicant, boss)
    return services.reviewer_assign(actor=boss, application=app, reviewer=f.reviewer(), kind="technical")


def test_reviewer_sees_only_own_assignments_and_content_after_declaring(as_user, assignment):
    me = as_user(assignment.reviewer)
    other = as_user(f.reviewer())
    rows = me.get("/api/v1/staff/reviews/").json()["results"]
    assert [r["id"] for r in rows] == [assignment.pk]
    assert other.get("/api/v1/staff/reviews/").json()["count"] == 0
    assert other.get(f"/api/v1/staff/reviews/{assignment.pk}/").status_code == 404
    body = me.get(f"/api/v1/staff/reviews/{assignment.pk}/").json()
    assert body["application"] == assignment.application.reference and body["content"] is None
    body = me.post(f"/api/v1/staff/reviews/{assignment.pk}/declaration/", {"has_conflict": False},
                   format="json").json()
    assert body["status"] == "accepted" and body["content"]["title"] and body["content"]["rubric"]


def test_declaring_a_conflict_needs_a_statement_and_hides_content(as_user, assignment):
    me = as_user(assignment.reviewer)
    path = f"/api/v1/staff/reviews/{assignment.pk}/declaration/"
    response = me.post(path, {"has_conflict": True}, format="json")
    assert response.status_code == 400 and "statement" in response.json()["error"]["fields"]
    body = me.post(path, {"has_conflict": True, "statement": "Former employer"}, format="json").json()
    assert body["status"] == "conflicted" and body["content"] is None
    again = me.post(path, {"has_conflict": True, "statement": "Former employer"}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "conflicted"  # the same declaration: a no-op
    changed = me.post(path, {"has_conflict": False}, format="json")
    assert changed.status_code == 409  # a declaration stands: the workflow has no way back
    assert changed.json()["error"]["message"] == "You already made your declaration."


def test_review_submission_checks_scores_and_order(as_user, assignment):
    me = as_user(assignment.reviewer)
    path = f"/api/v1/staff/reviews/{assignment.pk}/review/"
    early = me.post(path, {"scores": {}, "recommendation": "approve"}, format="json")
    assert early.status_code == 409  # declare first: the workflow refuses the move
    assert "no conflict of interest before reviewing" in early.json()["error"]["message"]
    me.post(f"/api/v1/staff/reviews/{assignment.pk}/declaration/", {"has_conflict": False}, format="json")
    bad = me.post(path, {"scores": {"feasibility": 9}, "recommendation": "approve"}, format="json")
    assert bad.status_code == 400 and {"feasibility", "resources", "team"} <= set(bad.json()["error"]["fields"])
    ok = me.post(path, {"scores": {"feasibility": 4, "resources": 5, "team": 3}, "recommendation": "approve",
                        "comments_for_applicant": "Good"}, format="json")
    assert ok.status_code == 201 and ok.json()["review"]["recommendation"] == "approve"
    assignment.application.refresh_from_db()
    assert assignment.application.status == ApplicationStatus.AWAITING_DECISION


# ------------------------------------------------------------------------------------ committee

def test_manager_overview_excludes_drafts_and_filters(as_user, applicant, boss, capacity):
    f.draft(applicant)
    submitted = f.submitted(applicant)
    client = as_user(boss)
    assert [r["reference"] for r in client.get("/api/v1/staff/applications/").json()["results"]] == \
        [submitted.reference]
    assert client.get("/api/v1/staff/applications/?site=zellik").json()["count"] == 1
    assert client.get("/api/v1/staff/applications/?site=charleroi").json()["count"] == 0
    assert client.get(f"/api/v1/staff/applications/{f.draft(applicant).reference}/").status_code == 404
    body = client.get(f"/api/v1/staff/applications/{submitted.reference}/").json()
    assert body["assignments"] == [] and body["approval_blockers"] == []


def test_eligibility(as_user, applicant, boss, capacity):
    app = f.submitted(applicant)
    path = f"/api/v1/staff/applications/{app.reference}/eligibility/"
    client = as_user(boss)
    assert client.post(path, {"eligible": False}, format="json").json()["error"]["fields"]["reason"]
    assert as_user(applicant).post(path, {"eligible": True}, format="json").status_code == 403
    body = client.post(path, {"eligible": True}, format="json").json()
    assert body["status"] == "in_review"


def test_assign_reviewer_rules(as_user, applicant, boss, capacity):
    app = f.in_review(applicant, boss)
    path = f"/api/v1/staff/applications/{app.reference}/assignments/"
    client = as_user(boss)
    not_reviewer = client.post(path, {"reviewer": applicant.pk, "kind": "technical"}, format="json")
    assert not_reviewer.status_code == 400 and "reviewer" in not_reviewer.json()["error"]["fields"]
    unknown = client.post(path, {"reviewer": 999999, "kind": "technical"}, format="json")
    assert unknown.status_code == 400
    person = f.reviewer()
    response = client.post(path, {"reviewer": person.pk, "kind": "technical"}, format="json")
    assert response.status_code == 201 and response.json()["assignments"][0]["reviewer"] == person.pk
    assert client.post(path, {"reviewer": person.pk, "kind": "technical"}, format="json").status_code == 400


def test_approve_with_quotas_creates_the_allocation(as_user, applicant, boss, capacity):
    app = f.reviewed(applicant, boss)
    path = f"/api/v1/staff/applications/{app.reference}/approve/"
    client = as_user(boss)
    too_much = client.post(path, {"quotas": [{"site": "zellik", "gpu_hours": 10_001}]}, format="json")
    assert too_much.status_code == 400
    assert client.post(path, {"quotas": [{"site": "charleroi", "gpu_hours": 10}]}, format="json").status_code == 400
    response = client.post(path, {"quotas": [{"site": "zellik", "gpu_hours": 8000, "cpu_core_hours": 1000}],
                                  "reasons": "Strong"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == AllocationStatus.APPROVED and body["quotas"][0]["gpu_hours"] == 8000
    assert body["provisioning"]["sync_state"] == "needs_sync"
    rejected = client.post(f"/api/v1/staff/applications/{app.reference}/reject/", {"reasons": "late"}, format="json")
    assert rejected.status_code == 409


def test_reject_and_revision_need_text_and_a_manager(as_user, applicant, boss, capacity):
    app = f.submitted(applicant)
    client = as_user(boss)
    base = f"/api/v1/staff/applications/{app.reference}"
    assert client.post(f"{base}/reject/", {"reasons": " "}, format="json").status_code == 400
    assert client.post(f"{base}/request-revision/", {"comments": ""}, format="json").status_code == 400
    assert as_user(f.reviewer()).post(f"{base}/reject/", {"reasons": "x"}, format="json").status_code == 403
    body = client.post(f"{base}/request-revision/", {"comments": "Explain the data"}, format="json").json()
    assert body["status"] == "revision_requested"
    assert client.post(f"{base}/approve/", {"quotas": []}, format="json").status_code == 400


def test_change_requests_are_decided_by_managers(as_user, applicant, boss, capacity):
    alloc = f.bare_allocation(f.applicant().memberships.first().organisation, applicant)
    member = f.applicant(alloc.organisation)
    cr = change_request_submit(actor=member, allocation=alloc, kind="extension",
                               payload={"end_date": alloc.end_date.replace(year=alloc.end_date.year + 1).isoformat()},
                               justification="More epochs")
    client = as_user(boss)
    rows = client.get("/api/v1/staff/change-requests/?status=submitted").json()["results"]
    assert [r["id"] for r in rows] == [cr.pk]
    path = f"/api/v1/staff/change-requests/{cr.pk}/decision/"
    assert as_user(member).post(path, {"approve": True}, format="json").status_code == 403
    body = client.post(path, {"approve": True, "reason": "ok"}, format="json").json()
    assert body["status"] == ChangeStatus.APPROVED
    alloc.refresh_from_db()
    assert alloc.end_date.isoformat() == cr.payload["end_date"]
    assert client.post("/api/v1/staff/change-requests/999999/decision/", {"approve": True},
                       format="json").status_code == 404


def test_manager_allocation_views(as_user, applicant, boss):
    alloc = f.bare_allocation(f.applicant().memberships.first().organisation, applicant)
    client = as_user(boss)
    assert client.get("/api/v1/staff/allocations/?status=active").json()["count"] == 1
    assert client.get(f"/api/v1/staff/allocations/{alloc.reference}/").json()["reference"] == alloc.reference
    assert client.get("/api/v1/staff/allocations/AIF-1999-0001/").status_code == 404


# ------------------------------------------------------------------------------------ ethics and audit

def test_ethics_queue_and_decision(as_user, applicant, capacity):
    app = f.complete(applicant)
    from allocations.applications.services import application_set_ethics_issues, application_submit

    application_set_ethics_issues(actor=applicant, application=app,
                                  issues={**f.ETHICS_ALL_NO, "personal_data": {"answer": True, "text": "DPIA"}})
    application_submit(actor=applicant, application=app, declaration_version=DECLARATION_VERSION)
    officer = f.EthicsOfficerFactory(totp=True)
    client = as_user(officer)
    rows = client.get("/api/v1/staff/ethics/reviews/?status=pending").json()["results"]
    assert [r["application"] for r in rows] == [app.reference]
    path = f"/api/v1/staff/ethics/reviews/{app.reference}/decision/"
    missing = client.post(path, {"status": "cleared_with_conditions"}, format="json")
    assert missing.status_code == 400 and "conditions" in missing.json()["error"]["fields"]
    assert as_user(f.manager()).post(path, {"status": "cleared"}, format="json").status_code == 403
    body = client.post(path, {"status": "cleared_with_conditions", "conditions": ["Pseudonymise the data"]},
                       format="json").json()
    assert body["status"] == EthicsStatus.CLEARED_WITH_CONDITIONS and body["conditions"] == ["Pseudonymise the data"]
    again = client.post(path, {"status": "cleared_with_conditions", "conditions": ["Pseudonymise the data"]},
                        format="json")
    assert again.status_code == 200 and again.json()["conditions"] == ["Pseudonymise the data"]  # a no-op
    other = client.post(path, {"status": "cleared"}, format="json")
    assert other.status_code == 409  # decided already: a decision stands
    assert other.json()["error"]["message"] == "This application is not waiting for an ethics decision."
    assert client.post("/api/v1/staff/ethics/reviews/AIF-1999-0001/decision/", {"status": "cleared"},
                       format="json").status_code == 404


def test_audit_events_filter_by_object_action_and_date(as_user, applicant):
    app = f.draft(applicant)
    f.draft(applicant)
    client = as_user(f.EthicsOfficerFactory(totp=True))
    rows = client.get(f"/api/v1/staff/audit-events/?object_type=allocations.application&object_id={app.pk}").json()
    assert [r["action"] for r in rows["results"]] == ["application.created"]
    assert client.get("/api/v1/staff/audit-events/?action=application.created").json()["count"] == 2
    assert client.get("/api/v1/staff/audit-events/?action_prefix=application.").json()["count"] == 2
    assert client.get("/api/v1/staff/audit-events/?created_after=2999-01-01T00:00:00Z").json()["count"] == 0
    assert client.get("/api/v1/staff/audit-events/?created_after=yesterday").status_code == 400
    seqs = [r["seq"] for r in client.get("/api/v1/staff/audit-events/?ordering=seq").json()["results"]]
    assert seqs == sorted(seqs)


def test_unauthenticated_staff_request_is_401():
    assert APIClient().get("/api/v1/staff/reviews/").status_code == 401


def test_cancelled_assignments_do_not_exist_for_the_reviewer(as_user, assignment):
    ReviewAssignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.CANCELLED)
    assert as_user(assignment.reviewer).get(f"/api/v1/staff/reviews/{assignment.pk}/").status_code == 404


def test_audit_event_count_comes_from_the_seq_index_and_matches_the_rows(as_user, applicant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.models import AuditEvent

    for _ in range(4):
        f.draft(applicant)
    client = as_user(f.EthicsOfficerFactory(totp=True))
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/staff/audit-events/?page_size=3").json()
    assert body["count"] == AuditEvent.objects.count() >= 4
    assert len(body["results"]) == 3 and body["next"]
    sqls = [q["sql"] for q in ctx.captured_queries if "compliance_auditevent" in q["sql"]]
    assert not any("COUNT(" in sql for sql in sqls), sqls
    assert any("MAX(" in sql and "MIN(" in sql for sql in sqls), sqls
    # Every page of the trail, followed through `next`, holds each event once.
    seen, url = [], "/api/v1/staff/audit-events/?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [r["seq"] for r in page["results"]]
        url = page["next"]
    assert sorted(seen) == list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    # A filtered list is counted row by row.
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/staff/audit-events/?action=application.created").json()["count"] == 4
    assert any("COUNT(" in q["sql"] for q in ctx.captured_queries)


# ------------------------------------------------------------------------------------ allocation status

def _status_events(alloc):
    return AuditEvent.objects.filter(action="allocation.status_changed", object_id=str(alloc.pk))


@pytest.mark.parametrize("action", ["suspend", "resume", "revoke"])
def test_allocation_status_changes_need_a_manager_with_a_second_factor(as_user, client, applicant, action):
    alloc = f.bare_allocation(f.applicant().memberships.first().organisation, applicant)
    path = f"/api/v1/staff/allocations/{alloc.reference}/{action}/"
    body = {"reason": "Misuse"}
    assert as_user(applicant).post(path, body, format="json").status_code == 403
    for role in ("reviewer", "ethics_officer", "operator"):
        response = as_user(f.STAFF_FACTORIES[role](totp=True)).post(path, body, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied", role
    response = as_user(f.AllocationManagerFactory(totp=False)).post(path, body, format="json")  # no authenticator
    assert response.status_code == 403 and response.json()["error"]["code"] == "mfa_required"
    client.force_login(f.AllocationManagerFactory(totp=False))
    assert client.post(path, body, content_type="application/json").json()["error"]["code"] == "mfa_required"
    assert as_user(f.manager()).post(f"/api/v1/staff/allocations/AIF-1999-0001/{action}/", body,
                                     format="json").status_code == 404
    alloc.refresh_from_db()
    assert alloc.status == AllocationStatus.ACTIVE and not _status_events(alloc).exists()


def test_suspend_and_resume_through_the_service_once(as_user, applicant, boss):
    alloc = f.bare_allocation(f.applicant().memberships.first().organisation, applicant)
    client = as_user(boss)
    path = f"/api/v1/staff/allocations/{alloc.reference}/"
    response = client.post(path + "suspend/", {"reason": "Unpaid invoice"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == AllocationStatus.SUSPENDED and body["status_reason"] == "Unpaid invoice"
    assert body["provisioning"]["sync_state"] == "needs_sync" and "conditions" in body
    again = client.post(path + "suspend/", {"reason": "Unpaid invoice"}, format="json")
    assert again.status_code == 200 and again.json()["status"] == AllocationStatus.SUSPENDED
    events = list(_status_events(alloc))
    assert len(events) == 1 and events[0].actor_id == boss.pk
    assert events[0].changes["status"] == ["active", "suspended"] and events[0].changes["reason"] == "Unpaid invoice"
    resumed = client.post(path + "resume/", {}, format="json")
    assert resumed.status_code == 200 and resumed.json()["status"] == AllocationStatus.ACTIVE
    assert client.post(path + "resume/", format="json").status_code == 200
    assert _status_events(alloc).count() == 2


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_suspend_and_revoke_need_a_reason(as_user, applicant, boss, action):
    alloc = f.bare_allocation(f.applicant().memberships.first().organisation, applicant)
    client = as_user(boss)
    path = f"/api/v1/staff/allocations/{alloc.reference}/{action}/"
    for body in ({}, {"reason": "   "}):
        response = client.post(path, body, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["reason"] == ["Give a reason."]
    assert client.post(path, {"reason": ["not", "text"]}, format="json").status_code == 400
    assert client.post(path, {"reason": "x" * 2001}, format="json").status_code == 400
    alloc.refresh_from_db()
    assert alloc.status == AllocationStatus.ACTIVE and alloc.status_reason == ""
    assert not _status_events(alloc).exists()


def test_status_changes_the_workflow_does_not_allow_are_409(as_user, applicant, boss):
    alloc = f.bare_allocation(f.applicant().memberships.first().organisation, applicant,
                              status=AllocationStatus.APPROVED)
    client = as_user(boss)
    base = f"/api/v1/staff/allocations/{alloc.reference}/"
    refused = client.post(base + "suspend/", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert refused.json()["error"]["message"] == "An allocation that is Approved cannot become Suspended."
    assert client.post(base + "resume/", {}, format="json").status_code == 409
    revoked = client.post(base + "revoke/", {"reason": "Ethics clearance withdrawn"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["status"] == AllocationStatus.REVOKED
    assert client.post(base + "revoke/", {"reason": "Ethics clearance withdrawn"}, format="json").status_code == 200
    assert client.post(base + "resume/", {}, format="json").status_code == 409
    assert client.post(base + "suspend/", {"reason": "x"}, format="json").status_code == 409
    assert _status_events(alloc).count() == 1
