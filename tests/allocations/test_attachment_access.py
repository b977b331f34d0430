"""Who reads an application's documents: one rule (applications.permissions.attachment_access) for the
download page, the API download and the links the staff pages show; every download by staff audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from rest_framework.test import APIClient

from allocations.applications import permissions, services
from allocations.applications.models import Application, ApplicationStatus
from allocations.review import services as review_services
from compliance.models import EthicsReview, EthicsStatus
from portal.audit import AuditAction
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

PLAN = f.pdf_bytes()


def page_url(app, attachment) -> str:
    return reverse("applications:attachment_download", args=[app.reference, attachment.pk])


def api_url(app, attachment) -> str:
    return f"/api/v1/applications/{app.reference}/attachments/{attachment.pk}/"


def api_for(user) -> APIClient:
    api = APIClient()
    api.credentials(**f.auth(f.token(user)))
    return api


def downloads(client, user, app, attachment) -> tuple[int, int]:
    """(page, API) status of one download by `user`; a 200 must hand out the stored bytes."""
    client.force_login(user)
    page = client.get(page_url(app, attachment))
    api = api_for(user).get(api_url(app, attachment))
    for response in (page, api):
        if response.status_code == 200:
            assert b"".join(response.streaming_content) == PLAN
    return page.status_code, api.status_code


@pytest.fixture
def member():
    return f.applicant()


@pytest.fixture
def app(member):
    """In review, ethics review pending, with a project plan."""
    return f.application(status=ApplicationStatus.IN_REVIEW, member=member, ethics=EthicsStatus.PENDING)


@pytest.fixture
def plan(app):
    return f.attach(app, content=PLAN)


def assigned(app, *, declare: bool | None = None, submit: bool = False):
    """A reviewer assigned to `app`: declared no conflict (False), a conflict (True) or nothing yet (None)."""
    person = f.reviewer()
    assignment = review_services.reviewer_assign(actor=f.manager(), application=app, reviewer=person,
                                                 kind="technical")
    if declare is not None:
        review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=declare,
                                         statement="I advised them last year." if declare else "")
    if submit:
        review_services.review_submit(actor=person, assignment=assignment, scores=f.full_scores(app),
                                      recommendation="approve")
    return person


# --- the matrix -----------------------------------------------------------------------------------------

def test_members_read_in_every_status_and_are_not_audited(client, member, app, plan):
    for status in ApplicationStatus.values:
        Application.objects.filter(pk=app.pk).update(status=status)
        assert downloads(client, member, app, plan) == (200, 200), status
    assert not AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED).exists()


@pytest.mark.parametrize(("who", "expected"), [
    ("member of another organisation", 404),
    ("reviewer assigned, no declaration yet", 404),
    ("reviewer who declared no conflict", 200),
    ("reviewer who submitted the review", 200),
    ("reviewer who declared a conflict", 404),
    ("reviewer of another application", 404),
    ("reviewer whose assignment was cancelled", 404),
    ("allocation manager", 200),
    ("ethics officer (ethics review pending)", 200),
    ("operator", 404),
])
def test_who_reads_an_application_in_review(client, app, plan, who, expected):
    people = {
        "member of another organisation": lambda: f.applicant(),
        "reviewer assigned, no declaration yet": lambda: assigned(app),
        "reviewer who declared no conflict": lambda: assigned(app, declare=False),
        "reviewer who submitted the review": lambda: assigned(app, declare=False, submit=True),
        "reviewer who declared a conflict": lambda: assigned(app, declare=True),
        "reviewer of another application": lambda: assigned(
            f.application(status=ApplicationStatus.IN_REVIEW), declare=False),
        "allocation manager": lambda: f.manager(),
        "ethics officer (ethics review pending)": lambda: f.EthicsOfficerFactory(totp=True),
        "operator": lambda: f.OperatorFactory(totp=True),
    }
    if who == "reviewer whose assignment was cancelled":
        person = assigned(app, declare=False)
        review_services.reviewer_unassign(actor=f.manager(), assignment=person.review_assignments.get())
    else:
        person = people[who]()
    assert downloads(client, person, app, plan) == (expected, expected)


@pytest.mark.parametrize(("ethics", "expected"), [
    (EthicsStatus.PENDING, 200),
    (EthicsStatus.CLEARED, 200),
    (EthicsStatus.CLEARED_WITH_CONDITIONS, 200),
    (EthicsStatus.REFUSED, 200),
    (EthicsStatus.AUTO_CLEARED, 404),  # no officer examines it
])
@pytest.mark.parametrize("status", [ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW,
                                    ApplicationStatus.AWAITING_DECISION, ApplicationStatus.APPROVED,
                                    ApplicationStatus.REJECTED])
def test_ethics_officers_read_while_in_ethics_review_or_decided(client, status, ethics, expected):
    app = f.application(status=status, ethics=ethics)
    plan = f.attach(app, content=PLAN)
    assert downloads(client, f.EthicsOfficerFactory(totp=True), app, plan) == (expected, expected)


def test_a_draft_is_its_organisations_alone_even_back_for_revision(client, member):
    app = f.application(status=ApplicationStatus.IN_REVIEW, member=member, ethics=EthicsStatus.PENDING)
    plan = f.attach(app, content=PLAN)
    reviewer = assigned(app, declare=False)
    staff = [f.manager(), f.EthicsOfficerFactory(totp=True), reviewer]
    assert [downloads(client, p, app, plan) for p in staff] == [(200, 200)] * 3
    # Back to draft for a revision: submitted once, but being edited by the applicant again.
    Application.objects.filter(pk=app.pk).update(status=ApplicationStatus.DRAFT)
    assert [downloads(client, p, app, plan) for p in staff] == [(404, 404)] * 3
    assert downloads(client, member, app, plan) == (200, 200)
    # A draft never submitted.
    fresh = f.application(status=ApplicationStatus.DRAFT, member=member)
    fresh_plan = f.attach(fresh, content=PLAN)
    assert downloads(client, f.manager(), fresh, fresh_plan) == (404, 404)


def test_anonymous_is_sent_to_sign_in_or_refused(client, app, plan):
    response = client.get(page_url(app, plan))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert APIClient().get(api_url(app, plan)).status_code == 401


def test_unknown_application_or_attachment_is_404_for_everyone(client, app, plan):
    other = f.attach(f.application(status=ApplicationStatus.IN_REVIEW), content=PLAN)
    client.force_login(f.manager())
    assert client.get(reverse("applications:attachment_download", args=["AIF-2026-999999", plan.pk])).status_code \
        == 404
    # An attachment of another application under this one's reference.
    assert client.get(reverse("applications:attachment_download", args=[app.reference, other.pk])).status_code \
        == 404


def test_the_rule_names_the_ground_of_each_reader(member, app):
    assert permissions.attachment_access(member, app) == permissions.MEMBER
    assert permissions.attachment_access(f.manager(), app) == "allocation_manager"
    assert permissions.attachment_access(f.EthicsOfficerFactory(), app) == "ethics_officer"
    assert permissions.attachment_access(assigned(app, declare=False), app) == "reviewer"
    assert permissions.attachment_access(assigned(app, declare=True), app) is None


# --- the audit trail ----------------------------------------------------------------------------------

def test_every_staff_download_is_audited_with_who_which_file_and_on_what_ground(client, app, plan):
    reviewer = assigned(app, declare=False)
    boss = f.manager()
    downloads(client, reviewer, app, plan)
    downloads(client, boss, app, plan)
    events = list(AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED).order_by("seq"))
    assert [(e.actor_id, e.object_type, e.object_id, e.changes["as"]) for e in events] == [
        (reviewer.pk, "allocations.attachment", str(plan.pk), "reviewer"),  # page
        (reviewer.pk, "allocations.attachment", str(plan.pk), "reviewer"),  # API
        (boss.pk, "allocations.attachment", str(plan.pk), "allocation_manager"),
        (boss.pk, "allocations.attachment", str(plan.pk), "allocation_manager"),
    ]
    assert {e.changes["sha256"] for e in events} == {plan.sha256}
    assert {e.changes["application_id"] for e in events} == {app.pk}
    assert all(e.created_at for e in events)


def test_a_refused_or_failed_download_records_nothing(client, app, plan):
    downloads(client, assigned(app), app, plan)  # before the declaration: 404
    downloads(client, f.applicant(), app, plan)
    services.attachment_path(plan).unlink()
    assert downloads(client, f.manager(), app, plan) == (404, 404)  # the file is gone
    assert not AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED).exists()


def test_the_service_refuses_a_reader_the_rule_does_not_allow(app, plan):
    with pytest.raises(PermissionDenied):
        services.attachment_read(actor=assigned(app, declare=True), attachment=plan)
    assert not AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED).exists()


def test_the_applicant_does_not_see_staff_downloads_in_the_history_the_manager_does(client, member, app, plan):
    boss = f.manager()
    downloads(client, boss, app, plan)
    client.force_login(member)
    assert "Document downloaded by staff" not in client.get(app.get_absolute_url()).content.decode()
    client.force_login(boss)
    page = client.get(app.get_absolute_url()).content.decode()
    assert f"Document downloaded by staff <span class=\"muted\">— {boss.display_name}</span>" in page


# --- the pages link the documents -----------------------------------------------------------------

def listed_with_link(page: str, app, attachment) -> bool:
    return f'href="{page_url(app, attachment)}"' in page


def test_reviewer_page_shows_everything_scored_with_the_documents(client, member):
    boss = f.manager()
    f.publish_capacity()
    app = f.in_review_with_plan(member, boss, plan=PLAN)
    plan = app.attachments.get()
    reviewer = f.reviewer()
    assignment = review_services.reviewer_assign(actor=boss, application=app, reviewer=reviewer, kind="technical")
    client.force_login(reviewer)
    url = reverse("review:assignment_detail", args=[assignment.pk])
    before = client.get(url).content.decode()
    assert not listed_with_link(before, app, plan) and "project-plan.pdf" not in before
    review_services.reviewer_declare(actor=reviewer, assignment=assignment, has_conflict=False)
    page = client.get(url).content.decode()
    assert listed_with_link(page, app, plan)
    assert "project-plan.pdf" in page and "Project plan" in page and "PDF document" in page
    assert str(filesizeformat(len(PLAN))) in page
    # The whole application on one page: abstract, resources per site, AI Act class, ethics answers, rubric.
    assert f.PROJECT["abstract"] in page
    assert "Zellik" in page and "10,000" in page
    assert app.risk_assessment.classification == "out_of_scope" and "Outside the scope of the AI Act" in page
    assert "Personal data: Yes: Voices are pseudonymised; DPIA attached." in page
    assert "Submit the review" in page


def test_conflicted_reviewer_page_has_no_content_and_no_link(client, app, plan):
    reviewer = assigned(app, declare=True)
    client.force_login(reviewer)
    page = client.get(reverse("review:assignment_detail", args=[reviewer.review_assignments.get().pk]))
    assert page.status_code == 200
    assert plan.original_name not in page.content.decode()


def test_ethics_page_links_the_documents_while_in_ethics_review(client, app, plan):
    client.force_login(f.EthicsOfficerFactory(totp=True))
    url = reverse("compliance:ethics_review", args=[app.reference])
    page = client.get(url).content.decode()
    assert "Documents" in page and listed_with_link(page, app, plan)
    EthicsReview.objects.filter(application=app).update(status=EthicsStatus.AUTO_CLEARED)
    page = client.get(url).content.decode()
    assert plan.original_name in page and not listed_with_link(page, app, plan)
    assert "You cannot open these documents at this stage." in page


def test_ethics_page_shows_issue_labels_not_codes(client):
    f.publish_capacity()
    app = f.in_review_with_plan(f.applicant(), f.manager())
    client.force_login(f.EthicsOfficerFactory(totp=True))
    page = client.get(reverse("compliance:ethics_review", args=[app.reference])).content.decode()
    assert "Ethics issue declared: Personal data" in page and "personal_data" not in page
    assert "<strong>Personal data</strong>: Voices are pseudonymised; DPIA attached." in page


@pytest.mark.parametrize("view_name", ["review:application_eligibility", "review:application_decision"])
def test_manager_pages_link_the_documents(client, app, plan, view_name):
    client.force_login(f.manager())
    page = client.get(reverse(view_name, args=[app.reference])).content.decode()
    assert listed_with_link(page, app, plan) and "PDF document" in page


def test_the_application_page_links_only_for_those_who_may_read(client, member, app, plan):
    for person, linked in [(member, True), (f.manager(), True), (f.OperatorFactory(totp=True), False)]:
        client.force_login(person)
        page = client.get(app.get_absolute_url()).content.decode()
        assert plan.original_name in page
        assert listed_with_link(page, app, plan) is linked, person


# --- the API gives the same -----------------------------------------------------------------------

def test_reviewer_api_gives_the_documents_after_the_declaration(app, plan):
    reviewer = assigned(app)
    assignment = reviewer.review_assignments.get()
    api = api_for(reviewer)
    url = f"/api/v1/staff/reviews/{assignment.pk}/"
    assert api.get(url).json()["content"] is None
    response = api.post(f"{url}declaration/", {"has_conflict": False}, format="json")
    content = response.json()["content"]
    [document] = content["attachments"]
    assert (document["id"], document["original_name"], document["size"], document["content_type"]) == (
        plan.pk, plan.original_name, len(PLAN), "application/pdf")
    assert document["download_url"] == f"http://testserver{api_url(app, plan)}"
    assert content["ethics_issues"] == app.ethics_issues
    download = api.get(document["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PLAN
    assert AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED, actor_id=reviewer.pk).count() == 1


def test_manager_api_gives_download_urls(app, plan):
    data = api_for(f.manager()).get(f"/api/v1/staff/applications/{app.reference}/").json()
    assert [a["download_url"] for a in data["attachments"]] == [f"http://testserver{api_url(app, plan)}"]


def test_ethics_api_gives_the_review_with_its_documents(app, plan):
    api = api_for(f.EthicsOfficerFactory(totp=True))
    url = f"/api/v1/staff/ethics/reviews/{app.reference}/"
    data = api.get(url).json()
    assert data["application"] == app.reference and data["status"] == "pending"
    assert [a["download_url"] for a in data["attachments"]] == [f"http://testserver{api_url(app, plan)}"]
    EthicsReview.objects.filter(application=app).update(status=EthicsStatus.AUTO_CLEARED)
    assert [a["download_url"] for a in api.get(url).json()["attachments"]] == [None]
    assert api_for(f.manager()).get(url).status_code == 403
    assert api.get("/api/v1/staff/ethics/reviews/AIF-2026-999999/").status_code == 404


def test_application_api_gives_no_url_to_who_may_not_read(member, app, plan):
    operator = api_for(f.OperatorFactory(totp=True)).get(f"/api/v1/applications/{app.reference}/").json()
    assert [a["download_url"] for a in operator["attachments"]] == [None]
    own = api_for(member).get(f"/api/v1/applications/{app.reference}/").json()
    assert [a["download_url"] for a in own["attachments"]] == [f"http://testserver{api_url(app, plan)}"]

