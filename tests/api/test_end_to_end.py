"""Whole journeys with API calls alone: an SME from nothing to a submitted application, then the
access committee and a reviewer from eligibility to approval."""

import datetime

import pytest
from django.utils import timezone

from allocations.applications.models import EthicsIssue
from tests import factories as f

pytestmark = pytest.mark.django_db


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def answer_questionnaire(client, reference):
    """Walk the visible questions as the API shows them, answering no / none where offered."""
    answers = {}
    for _ in range(50):
        questionnaire = ok(client.get(f"/api/v1/applications/{reference}/ai-act/questionnaire/?lang=en"))
        if not questionnaire["missing"]:
            return answers, questionnaire
        for question in questionnaire["questions"]:
            if question["id"] in questionnaire["missing"]:
                values = [o["value"] for o in question["options"]]
                choice = next((v for v in ("no", "none") if v in values), values[0])
                answers[question["id"]] = [choice] if question["type"] == "multi_choice" else choice
        ok(client.put(f"/api/v1/applications/{reference}/ai-act/answers/", {"answers": answers}, format="json"))
    raise AssertionError("the questionnaire never completed")


def sme_submits(client, vat_number) -> str:
    org = ok(client.post("/api/v1/organisations/", {
        "legal_name": "Quantum Leaf BV", "country": "BE", "org_type": "startup", "vat_number": vat_number,
        "headcount": 6, "annual_turnover": "250000", "balance_sheet_total": "120000", "sectors": ["manufacturing"],
    }, format="json"), 201)
    app = ok(client.post("/api/v1/applications/", {"organisation": org["id"], "title": "Defect detection"},
                         format="json"), 201)
    ref = app["reference"]
    base = f"/api/v1/applications/{ref}"
    declaration = ok(client.get(f"{base}/declaration/"))
    assert "Quantum Leaf BV" in declaration["text"]
    declare = {"declaration_version": declaration["version"]}
    problems = client.post(f"{base}/submit/", declare, format="json").json()["error"]["problems"]
    assert len(problems) > 10  # an empty draft: every step reports
    ok(client.patch(f"{base}/project/", {
        "abstract": "Vision transformer for defect detection on a production line.",
        "public_summary": "Fewer defects in Belgian factories.", "sector": "manufacturing",
        "civilian_purpose": True, "dual_use": False, "rd_type": "product"}, format="json"))
    start = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    ok(client.patch(f"{base}/resources/", {
        "access_mode": "fast_lane", "start_date": start, "duration_months": 3,
        "resources": [{"site": "zellik", "gpu_hours": 5000, "cpu_core_hours": 2000, "storage_tb": "2.5"}]},
        format="json"))
    ok(client.patch(f"{base}/model/", {
        "model_activity": "fine_tune", "model_family": "ViT", "parameter_count": 300_000_000,
        "training_tokens": 1_000_000_000, "base_model_name": "ViT-B/16"}, format="json"))
    answers, questionnaire = answer_questionnaire(client, ref)
    assert questionnaire["missing"] == [] and answers
    result = ok(client.get(f"{base}/ai-act/result/"))
    assert result["complete"] is True
    ok(client.post(f"{base}/team/", {"full_name": "Lea Engineer", "email": "lea@quantumleaf.example",
                                     "cluster_username": "lea"}, format="json"), 201)
    ok(client.patch(f"{base}/ethics-issues/", {code: {"answer": False} for code in EthicsIssue.values},
                    format="json"))
    assert ok(client.get(f"{base}/problems/")) == []
    submitted = ok(client.post(f"{base}/submit/", declare, format="json"))
    assert submitted["status"] == "submitted" and submitted["decision_due"]
    return ref


def test_sme_and_committee_journey_through_the_api_alone(as_user, capacity, valid_be_number, run_on_commit):
    sme = as_user(f.UserFactory())
    with run_on_commit():
        ref = sme_submits(sme, valid_be_number)

    boss = as_user(f.manager())
    person = f.reviewer()
    reviewer = as_user(person)
    committee = f"/api/v1/staff/applications/{ref}"
    ok(boss.post(f"{committee}/eligibility/", {"eligible": True}, format="json"))
    assignment_id = ok(boss.post(f"{committee}/assignments/", {"reviewer": person.pk, "kind": "technical"},
                                 format="json"), 201)["assignments"][0]["id"]

    mine = ok(reviewer.get("/api/v1/staff/reviews/"))["results"]
    assert [a["id"] for a in mine] == [assignment_id]
    detail = ok(reviewer.post(f"/api/v1/staff/reviews/{assignment_id}/declaration/", {"has_conflict": False},
                              format="json"))
    scores = {criterion["code"]: 4 for criterion in detail["content"]["rubric"]}
    ok(reviewer.post(f"/api/v1/staff/reviews/{assignment_id}/review/", {
        "scores": scores, "recommendation": "approve", "comments_for_applicant": "Clear plan."}, format="json"), 201)

    decision = ok(boss.get(f"{committee}/"))
    assert decision["status"] == "awaiting_decision" and decision["approval_blockers"] == []
    allocation = ok(boss.post(f"{committee}/approve/", {
        "quotas": [{"site": "zellik", "gpu_hours": 4000, "cpu_core_hours": 2000, "storage_tb": "2"}],
        "reasons": "Strong, well-scoped project."}, format="json"), 201)
    assert allocation["status"] == "approved"

    assert ok(sme.get(f"/api/v1/applications/{ref}/"))["status"] == "approved"
    mine = ok(sme.get("/api/v1/allocations/"))["results"]
    assert [(a["reference"], a["quotas"][0]["gpu_hours"]) for a in mine] == [(allocation["reference"], 4000)]
