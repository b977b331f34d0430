"""Applications: the draft's steps, submission, withdrawal, and the AI Act questionnaire."""

import datetime

import pytest
from django.utils import timezone

from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus, TeamMember
from compliance.models import RiskAssessment
from tests import factories as f
from tests.factories import org_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(applicant):
    return f.draft(applicant)


def url(app, suffix=""):
    return f"/api/v1/applications/{app.reference}/{suffix}"


# ------------------------------------------------------------------------------------ read

def test_list_is_scoped_to_the_callers_organisations(as_user, applicant, outsider, app):
    f.draft(outsider)
    rows = as_user(applicant).get("/api/v1/applications/").json()["results"]
    assert [r["reference"] for r in rows] == [app.reference]


def test_list_filters_and_orders(as_user, applicant, app):
    second = f.draft(applicant, title="Speech models")
    client = as_user(applicant)
    assert client.get("/api/v1/applications/?q=speech").json()["count"] == 1
    assert client.get("/api/v1/applications/?status=submitted").json()["count"] == 0
    assert client.get("/api/v1/applications/?status=nonsense").status_code == 400
    refs = [r["reference"] for r in client.get("/api/v1/applications/?ordering=reference").json()["results"]]
    assert refs == sorted([app.reference, second.reference])
    assert client.get("/api/v1/applications/?page=9").status_code == 404


@pytest.mark.parametrize("factory", ["AllocationManagerFactory", "EthicsOfficerFactory", "OperatorFactory"])
def test_staff_with_oversight_read_every_application_but_cannot_edit(as_user, app, factory):
    staff = getattr(f, factory)(totp=True)
    client = as_user(staff)
    assert client.get("/api/v1/applications/").json()["count"] == 0  # a draft is its organisation's alone
    assert client.get(url(app)).status_code == 404
    f.mark_submitted(app)
    assert client.get("/api/v1/applications/").json()["count"] == 1
    assert client.get(url(app)).status_code == 200
    assert client.patch(url(app, "project/"), {"abstract": "x"}, format="json").status_code == 404


def test_reviewer_and_outsider_get_404(as_user, app, outsider):
    reviewer = f.reviewer()
    for person in (reviewer, outsider):
        client = as_user(person)
        assert client.get(url(app)).status_code == 404
        assert client.get("/api/v1/applications/").json()["count"] == 0
        assert client.patch(url(app, "project/"), {"abstract": "x"}, format="json").status_code == 404
        assert client.post(url(app, "submit/")).status_code == 404


# ------------------------------------------------------------------------------------ write

def test_create_draft(as_user, applicant, outsider):
    client = as_user(applicant)
    response = client.post("/api/v1/applications/", {"organisation": org_of(applicant).pk, "title": "LLM for law"},
                           format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "draft" and response.json()["reference"].startswith("AIF-")
    assert client.post("/api/v1/applications/", {"organisation": org_of(outsider).pk, "title": "x"},
                       format="json").status_code == 404
    assert client.post("/api/v1/applications/", {"organisation": org_of(applicant).pk, "title": "  "},
                       format="json").status_code == 400


def test_steps_save_only_the_fields_sent(as_user, applicant, app, capacity):
    client = as_user(applicant)
    assert client.patch(url(app, "project/"), {"abstract": "A", "sector": "health"}, format="json").status_code == 200
    body = client.patch(url(app, "model/"), {"model_activity": "train", "parameter_count": 7_000_000_000},
                        format="json").json()
    assert body["abstract"] == "A" and body["parameter_count"] == 7_000_000_000
    start = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    body = client.patch(url(app, "resources/"), {
        "access_mode": "fast_lane", "start_date": start, "duration_months": 2,
        "resources": [{"site": "zellik", "gpu_hours": 1000}, {"site": "charleroi", "gpu_hours": 0}]},
        format="json").json()
    assert body["access_mode"] == "fast_lane" and [r["site"] for r in body["resources"]] == ["zellik"]
    body = client.patch(url(app, "resources/"), {"duration_months": 3}, format="json").json()
    assert body["duration_months"] == 3 and len(body["resources"]) == 1
    body = client.patch(url(app, "ethics-issues/"), {"personal_data": {"answer": True, "text": "GDPR DPIA"}},
                        format="json").json()
    assert body["ethics_issues"]["personal_data"] == {"answer": True, "text": "GDPR DPIA"}
    body = client.patch(url(app, "ethics-issues/"), {"animals": {"answer": False}}, format="json").json()
    assert body["ethics_issues"]["personal_data"]["answer"] is True  # kept
    assert body["ethics_issues"]["animals"]["answer"] is False


def test_step_validation_errors(as_user, applicant, app):
    client = as_user(applicant)
    response = client.patch(url(app, "project/"), {"sector": "piracy", "dual_use": "maybe"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"sector", "dual_use"}
    response = client.patch(url(app, "resources/"), {"resources": [{"site": "mars", "gpu_hours": 1}]}, format="json")
    assert response.json()["error"]["fields"] == {"resources.0.site": [response.json()["error"]["message"]]}
    assert client.patch(url(app, "resources/"), {"access_mode": "vip"}, format="json").status_code == 400
    assert client.patch(url(app, "resources/"), {"call": 99}, format="json").json()["error"]["fields"]["call"]


def test_team_add_and_remove(as_user, applicant, app, run_on_commit):
    client = as_user(applicant)
    with run_on_commit():
        response = client.post(url(app, "team/"), {"full_name": "Ada", "email": "ada@example.eu",
                                                   "cluster_username": "ada"}, format="json")
    assert response.status_code == 201
    member_id = response.json()["id"]
    dup = client.post(url(app, "team/"), {"full_name": "Ada", "email": "ada@example.eu", "cluster_username": "ada2"},
                      format="json")
    assert dup.status_code == 400 and "email" in dup.json()["error"]["fields"]
    bad = client.post(url(app, "team/"), {"full_name": "B", "email": "b@example.eu", "cluster_username": "Root!"},
                      format="json")
    assert "cluster_username" in bad.json()["error"]["fields"]
    assert client.delete(url(app, f"team/{member_id}/")).status_code == 204
    assert not TeamMember.objects.filter(pk=member_id).exists()
    assert client.delete(url(app, f"team/{member_id}/")).status_code == 404


def test_submit_returns_every_problem(as_user, applicant, app):
    response = as_user(applicant).post(url(app, "submit/"), {"declaration_version": DECLARATION_VERSION},
                                       format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    steps = {p["step"] for p in error["problems"]}
    assert {"project", "resources", "model", "ai_act", "team", "ethics"} <= steps
    assert "project.abstract" in error["fields"] and "ethics.dual_use" in error["fields"]
    assert len(error["problems"]) == sum(len(v) for v in error["fields"].values())
    assert as_user(applicant).get(url(app, "problems/")).json() == error["problems"]


def test_submit_then_read_only_then_withdraw(as_user, applicant, capacity):
    app = f.complete(applicant)
    client = as_user(applicant)
    assert client.get(url(app, "problems/")).json() == []
    response = client.post(url(app, "submit/"), {"declaration_version": DECLARATION_VERSION}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert response.json()["ethics_review_status"] == "auto_cleared"
    locked = client.patch(url(app, "project/"), {"abstract": "late"}, format="json")
    assert locked.status_code == 400 and "read-only" in locked.json()["error"]["message"]
    response = client.post(url(app, "withdraw/"), {"reason": "Found compute elsewhere"}, format="json")
    assert response.json()["status"] == "withdrawn"
    again = client.post(url(app, "reopen/"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_withdraw_after_a_decision_is_a_conflict(as_user, applicant, boss, capacity):
    app = f.submitted(applicant)
    from allocations.review.services import application_reject

    application_reject(actor=boss, application=app, reasons="Out of scope")
    response = as_user(applicant).post(url(app, "withdraw/"), {}, format="json")
    assert response.status_code == 409


def test_revision_reopen(as_user, applicant, boss, capacity):
    from allocations.review.services import application_request_revision

    app = f.submitted(applicant)
    application_request_revision(actor=boss, application=app, comments="More detail")
    response = as_user(applicant).post(url(app, "reopen/"))
    assert response.status_code == 200 and response.json()["status"] == "draft"


# ------------------------------------------------------------------------------------ AI Act

def test_questionnaire_in_the_callers_language_with_visible_questions(as_user, applicant, app):
    client = as_user(applicant)
    body = client.get(url(app, "ai-act/questionnaire/?lang=fr")).json()
    assert body["language"] == "fr" and body["questions"][0]["options"][0]["label"] == "Oui"
    first_ids = [q["id"] for q in body["questions"]]
    assert body["missing"] == first_ids
    body = client.get(url(app, "ai-act/questionnaire/"), HTTP_ACCEPT_LANGUAGE="nl").json()
    assert body["language"] == "nl"
    assert client.get(url(app, "ai-act/result/")).status_code == 404  # nothing answered yet
    response = client.put(url(app, "ai-act/answers/"), {"answers": {"research_only": "no"}}, format="json")
    assert response.status_code == 200 and response.json()["complete"] is False
    body = client.get(url(app, "ai-act/questionnaire/")).json()
    assert len(body["questions"]) > len(first_ids)  # "no" opens more questions
    assert body["questions"][0]["answer"] == "no"


def test_answers_complete_the_assessment(as_user, applicant, app):
    answers = f.minimal_ai_act_answers()
    response = as_user(applicant).put(url(app, "ai-act/answers/?lang=en"), {"answers": answers}, format="json")
    assert response.status_code == 200
    assert response.json()["complete"] is True and response.json()["missing_answers"] == []
    assert RiskAssessment.objects.get(application=app).complete
    result = as_user(applicant).get(url(app, "ai-act/result/")).json()
    assert result["classification"] == response.json()["classification"]


def test_contradictory_answers_are_reported_by_name(as_user, applicant, app):
    # The project declares inference only; the answers say it trains a model.
    Application.objects.filter(pk=app.pk).update(model_activity="inference")
    answers = f.minimal_ai_act_answers() | {"trains_model": "yes", "model_modalities": ["text"],
                                            "modifies_gpai_model": "no", "open_weights": "no"}
    response = as_user(applicant).put(url(app, "ai-act/answers/"), {"answers": answers}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["complete"] is False and body["classification"] == "incomplete"
    assert body["conclusions"] == [] and body["obligations"] == []
    assert [c["code"] for c in body["contradictions"]] == ["training_answer_contradicts_declaration"]
    assert body["missing_answers"] == ["training_compute"]  # a draft without GPU-hours or model size
    assert body["missing"][0]["text"].startswith("The training compute of the project")


def test_invalid_answers_are_400_per_question(as_user, applicant, app):
    client = as_user(applicant)
    response = client.put(url(app, "ai-act/answers/"), {"answers": {"research_only": "perhaps", "nope": "yes"}},
                          format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"research_only", "nope"}
    assert client.put(url(app, "ai-act/answers/"), {"answers": []}, format="json").status_code == 400


def test_ai_act_is_for_members_of_a_draft_only(as_user, applicant, outsider, capacity):
    app = f.submitted(applicant)
    assert as_user(outsider).get(url(app, "ai-act/questionnaire/")).status_code == 404
    response = as_user(applicant).put(url(app, "ai-act/answers/"), {"answers": {}}, format="json")
    assert response.status_code == 403
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.SUBMITTED


# ------------------------------------------------------------------------------------ attachments

def test_attachment_upload_download_remove(as_user, applicant, outsider, app):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(applicant)
    pdf = f.pdf_bytes()
    response = client.post(url(app, "attachments/"), {"kind": "project_plan",
                                                      "file": SimpleUploadedFile("plan.pdf", pdf)}, format="multipart")
    assert response.status_code == 201, response.json()
    attachment_id = response.json()["id"]
    assert client.get(url(app)).json()["attachments"][0]["original_name"] == "plan.pdf"
    download = client.get(url(app, f"attachments/{attachment_id}/"))
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf
    assert as_user(outsider).get(url(app, f"attachments/{attachment_id}/")).status_code == 404
    officer = as_user(f.EthicsOfficerFactory(totp=True))
    assert officer.get(url(app, f"attachments/{attachment_id}/")).status_code == 404  # a draft
    assert officer.delete(url(app, f"attachments/{attachment_id}/")).status_code == 404
    not_pdf = client.post(url(app, "attachments/"), {"kind": "other", "file": SimpleUploadedFile("x.pdf", b"MZ..")},
                          format="multipart")
    assert not_pdf.status_code == 400 and "file" in not_pdf.json()["error"]["fields"]
    assert client.delete(url(app, f"attachments/{attachment_id}/")).status_code == 204
    assert client.get(url(app, f"attachments/{attachment_id}/")).status_code == 404


# ------------------------------------------------------------------------------------ feedback and reply

def test_feedback_and_right_to_reply(as_user, applicant, outsider, boss, capacity):
    app = f.awaiting_decision(member=applicant)
    client = as_user(applicant)
    body = client.get(url(app, "feedback/")).json()
    assert [r["label"] for r in body["reviews"]] == ["Technical 1"] and body["decisions"] == []
    assert body["can_reply"] is False  # Fast Lane grants no right to reply
    response = client.post(url(app, "reply/"), {"text": "Thanks"}, format="json")
    assert response.status_code == 400
    app.access_mode.review_path = {**app.access_mode.review_path, "right_to_reply": True}
    app.access_mode.save(update_fields=["review_path"])
    assert client.post(url(app, "reply/"), {"text": " "}, format="json").status_code == 400
    response = client.post(url(app, "reply/"), {"text": "We will reduce the storage."}, format="json")
    assert response.status_code == 201 and response.json()["reply"]["text"] == "We will reduce the storage."
    assert response.json()["can_reply"] is False
    assert as_user(outsider).get(url(app, "feedback/")).status_code == 404
