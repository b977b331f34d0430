"""Conflicts of interest, restricted pools, declaration before content, the rubric, the review path
and the right to reply: services and the pages that call them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Membership
from accounts.services import membership_remove
from allocations.applications.models import ApplicationStatus
from allocations.review import selectors as review_selectors
from allocations.review import services as review_services
from allocations.review.models import ApplicantReply, AssignmentStatus, ConflictDeclaration, ReviewAssignment
from portal.models import AuditEvent
from tests import factories as fr

pytestmark = pytest.mark.django_db


def _blocked(app, person, kind="technical"):
    with pytest.raises(ValidationError) as exc:
        review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=person, kind=kind)
    assert not ReviewAssignment.objects.filter(application=app, reviewer=person).exists()
    return exc.value.message_dict["reviewer"]


# --- conflicts of interest ------------------------------------------------------------------------

def test_member_of_the_applicant_is_blocked():
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    Membership.objects.create(user=person, organisation=app.organisation)
    messages = _blocked(app, person)
    assert messages[0].startswith("Assignment blocked")
    assert any("is a member of" in m and app.organisation.legal_name in m for m in messages)


def test_former_member_is_blocked_through_the_audit_trail():
    member = fr.applicant()
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member)
    person = fr.reviewer()
    former = Membership.objects.create(user=person, organisation=app.organisation)
    membership_remove(actor=member, membership=former)  # the owner removes them: audited
    assert not Membership.objects.filter(pk=former.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed").exists()
    messages = _blocked(app, person)
    assert any("was a member of" in m for m in messages)


def test_same_email_domain_is_blocked():
    member = fr.applicant(domain="biotech-acme.example")
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member)
    person = fr.reviewer(email="someone@biotech-acme.example")
    messages = _blocked(app, person)
    assert any("biotech-acme.example" in m for m in messages)


def test_shared_public_mail_domain_is_not_a_conflict():
    member = fr.applicant(domain="gmail.com")
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member)
    person = fr.reviewer(email="independent.reviewer@gmail.com")
    assert review_selectors.detect_conflicts(person, app) == []
    assignment = review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=person, kind="technical")
    assert assignment.status == AssignmentStatus.ASSIGNED


def test_earlier_co_membership_is_blocked():
    member = fr.applicant()
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member)
    person = fr.reviewer()
    elsewhere = fr.OrganisationFactory(legal_name="Joint Venture Lab SRL")
    Membership.objects.create(user=person, organisation=elsewhere)
    Membership.objects.create(user=member, organisation=elsewhere)
    messages = _blocked(app, person)
    assert any("Joint Venture Lab SRL" in m for m in messages)


def test_declared_conflict_is_blocked():
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    ConflictDeclaration.objects.create(reviewer=person, organisation=app.organisation, statement="Former advisor")
    messages = _blocked(app, person)
    assert any("declared a conflict" in m for m in messages)


def test_assign_page_shows_the_conflict_reasons(client):
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    ConflictDeclaration.objects.create(reviewer=person, organisation=app.organisation)
    boss = fr.manager()
    client.force_login(boss)
    url = reverse("review:application_reviewers", args=[app.reference])
    page = client.get(url).content.decode()
    assert "declared a conflict" in page  # shown before trying
    response = client.post(url, {"technical-reviewer": person.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Assignment blocked: likely conflict of interest." in body
    assert "declared a conflict" in body
    assert not ReviewAssignment.objects.filter(application=app).exists()


def test_assign_page_assigns_and_mails_the_reviewer(client, mailoutbox, run_on_commit):
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    client.force_login(fr.manager())
    with run_on_commit():
        response = client.post(reverse("review:application_reviewers", args=[app.reference]),
                               {"technical-reviewer": person.pk})
    assert response.status_code == 302
    assignment = ReviewAssignment.objects.get(application=app, reviewer=person)
    assert assignment.due_date is not None
    assert [m.to for m in mailoutbox] == [[person.email]]
    assert app.reference in mailoutbox[0].subject and "Kind of review: Technical." in mailoutbox[0].body
    assert f"{settings.PORTAL_BASE_URL}/staff/reviews/{assignment.pk}/" in mailoutbox[0].body


# --- restricted pools -----------------------------------------------------------------------------

@pytest.mark.parametrize("sector", ["defence", "security"])
def test_sensitive_sectors_use_the_restricted_pool_only(sector):
    app = fr.application(status=ApplicationStatus.IN_REVIEW, sector=sector)
    general = fr.reviewer()
    cleared = fr.reviewer(pool=fr.restricted_pool(sector))
    messages = _blocked(app, general)
    assert any("restricted pool only" in m for m in messages)
    assignment = review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=cleared,
                                                 kind="technical")
    assert assignment.reviewer == cleared
    assert [p.name for p in review_selectors.eligible_pools(app, "technical")] == [f"Restricted {sector} technical"]


def test_restricted_pool_is_not_used_for_other_sectors():
    app = fr.application(status=ApplicationStatus.IN_REVIEW, sector="health")
    cleared = fr.reviewer(pool=fr.restricted_pool("defence"))
    messages = _blocked(app, cleared)
    assert any("not in a technical pool" in m for m in messages)


def test_only_reviewers_can_be_assigned_and_only_by_managers():
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    not_a_reviewer = fr.UserFactory()
    fr.general_pool().members.add(not_a_reviewer)
    with pytest.raises(ValidationError):
        review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=not_a_reviewer, kind="technical")
    with pytest.raises(PermissionDenied):
        review_services.reviewer_assign(actor=fr.reviewer(), application=app, reviewer=fr.reviewer(), kind="technical")


# --- declaration before content -------------------------------------------------------------------


def test_reviewer_sees_only_reference_and_organisation_until_declaring(client):
    app = fr.application(status=ApplicationStatus.IN_REVIEW, title="Secret project title")
    person = fr.reviewer()
    assignment = review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=person, kind="technical")
    client.force_login(person)
    url = reverse("review:assignment_detail", args=[assignment.pk])
    before = client.get(url).content.decode()
    assert app.reference in before and app.organisation.legal_name in before
    assert "Secret project title" not in before and app.abstract not in before
    assert "Declaration of conflicts of interest" in before
    # Posting a review before the declaration does nothing.
    client.post(url, {"recommendation": "approve", **{f"score_{c}": 3 for c in fr.full_scores(app)}})
    assert ReviewAssignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ASSIGNED
    with pytest.raises(ValidationError):
        review_services.review_submit(
            actor=person, assignment=assignment, scores=fr.full_scores(app), recommendation="approve"
        )

    response = client.post(reverse("review:assignment_declare", args=[assignment.pk]), {"has_conflict": "no"})
    assert response.status_code == 302
    after = client.get(url).content.decode()
    assert "Secret project title" in after and app.abstract in after
    assert 'name="score_feasibility"' in after and 'value="5"' in after


def test_declaring_a_conflict_keeps_the_content_hidden(client):
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    assignment = review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=person, kind="technical")
    client.force_login(person)
    bad = client.post(reverse("review:assignment_declare", args=[assignment.pk]), {"has_conflict": "yes"})
    assert bad.status_code == 400 and "Describe the conflict." in bad.content.decode()
    client.post(
        reverse("review:assignment_declare", args=[assignment.pk]),
        {"has_conflict": "yes", "statement": "I advise their CTO."},
    )
    assert ReviewAssignment.objects.get(pk=assignment.pk).status == AssignmentStatus.CONFLICTED
    page = client.get(reverse("review:assignment_detail", args=[assignment.pk])).content.decode()
    assert app.abstract not in page and "declared a conflict" in page


def test_other_reviewers_assignments_are_404(client):
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    assignment = review_services.reviewer_assign(
        actor=fr.manager(), application=app, reviewer=fr.reviewer(), kind="technical"
    )
    client.force_login(fr.reviewer())
    assert client.get(reverse("review:assignment_detail", args=[assignment.pk])).status_code == 404
    assert (
        client.post(reverse("review:assignment_declare", args=[assignment.pk]), {"has_conflict": "no"}).status_code
        == 404
    )
    mine = client.get(reverse("review:assignment_list")).content.decode()
    assert app.reference not in mine


def test_declaring_twice_and_for_someone_else_is_refused():
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    assignment = review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=person, kind="technical")
    with pytest.raises(PermissionDenied):
        review_services.reviewer_declare(actor=fr.reviewer(), assignment=assignment, has_conflict=False)
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    with pytest.raises(ValidationError):
        review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=True, statement="late")


# --- rubric ----------------------------------------------------------------------------------------


@pytest.fixture
def accepted():
    app = fr.application(status=ApplicationStatus.IN_REVIEW)
    person = fr.reviewer()
    assignment = review_services.reviewer_assign(actor=fr.manager(), application=app, reviewer=person, kind="technical")
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    return app, person, assignment


@pytest.mark.parametrize(
    ("scores", "bad_key"),
    [
        ({"feasibility": 4, "resources": 4}, "team"),  # missing criterion
        ({"feasibility": 6, "resources": 4, "team": 4}, "feasibility"),  # above the scale
        ({"feasibility": 0, "resources": 4, "team": 4}, "feasibility"),  # below 1
        ({"feasibility": "x", "resources": 4, "team": 4}, "feasibility"),  # not a number
        ({"feasibility": 4, "resources": 4, "team": 4, "charm": 5}, "charm"),  # unknown criterion
    ],
)
def test_rubric_validation(accepted, scores, bad_key):
    app, person, assignment = accepted
    with pytest.raises(ValidationError) as exc:
        review_services.review_submit(actor=person, assignment=assignment, scores=scores, recommendation="approve")
    assert bad_key in exc.value.message_dict
    assert ReviewAssignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ACCEPTED


def test_rubric_needs_a_recommendation(accepted):
    app, person, assignment = accepted
    with pytest.raises(ValidationError):
        review_services.review_submit(
            actor=person, assignment=assignment, scores=fr.full_scores(app), recommendation=""
        )


def test_rubric_weighted_score(accepted):
    app, person, assignment = accepted
    review = review_services.review_submit(
        actor=person,
        assignment=assignment,
        recommendation="approve",
        scores={"feasibility": 5, "resources": 4, "team": 3},
    )
    # (0.4*5/5 + 0.4*4/5 + 0.2*3/5) / 1.0 * 100 = 84
    assert str(review.weighted_score) == "84.000"


def test_rubric_form_errors_are_shown_on_the_page(client, accepted):
    app, person, assignment = accepted
    client.force_login(person)
    response = client.post(
        reverse("review:assignment_detail", args=[assignment.pk]),
        {"score_feasibility": "4", "score_resources": "4", "recommendation": "approve"},
    )
    assert response.status_code == 200
    assert "Give a score from 1 to 5." in response.content.decode()
    response = client.post(
        reverse("review:assignment_detail", args=[assignment.pk]),
        {
            "score_feasibility": "4",
            "score_resources": "4",
            "score_team": "5",
            "recommendation": "approve",
            "comments_for_applicant": "Well argued.",
            "comments_for_committee": "Fund it.",
        },
    )
    assert response.status_code == 302
    assert ReviewAssignment.objects.get(pk=assignment.pk).status == AssignmentStatus.SUBMITTED


# --- review path ----------------------------------------------------------------------------------


def test_review_path_completion_moves_to_awaiting_decision():
    app = fr.application(status=ApplicationStatus.IN_REVIEW, access_mode="fast_lane")  # technical: 1
    fr.submit_review(app, fr.reviewer())
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION
    assert AuditEvent.objects.filter(action="application.status_changed", object_id=str(app.pk), actor=None).exists()


def test_large_scale_waits_for_every_review():
    app = fr.application(
        status=ApplicationStatus.IN_REVIEW, access_mode="large_scale", requests={"zellik": 60000}, duration=3
    )
    fr.submit_review(app, fr.reviewer(kind="scientific"), kind="scientific")
    fr.submit_review(app, fr.reviewer(kind="technical"), kind="technical")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.IN_REVIEW
    assert not review_services.review_path_complete(app)
    fr.submit_review(app, fr.reviewer(kind="scientific"), kind="scientific")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION


def test_eligibility_check_through_the_page(client):
    app = fr.application(status=ApplicationStatus.SUBMITTED)
    client.force_login(fr.manager())
    url = reverse("review:application_eligibility", args=[app.reference])
    response = client.post(url, {"eligible": "no"})
    assert "Say why the application is not eligible." in response.content.decode()
    response = client.post(url, {"eligible": "yes"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.IN_REVIEW


def test_not_eligible_is_rejected_with_the_reason():
    app = fr.application(status=ApplicationStatus.SUBMITTED)
    review_services.application_check_eligibility(
        actor=fr.manager(), application=app, eligible=False, reason="Large enterprises are not eligible for Fast Lane."
    )
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    event = AuditEvent.objects.filter(action="application.status_changed", object_id=str(app.pk)).last()
    assert event.changes["reason"].startswith("Large enterprises")


def test_full_applicant_path_reaches_the_committee(member, organisation, capacity):
    """Submitted through the applicant's services (AI Act questionnaire included), then reviewed."""
    app = fr.submitted(member, organisation)
    boss = fr.manager()
    review_services.application_check_eligibility(actor=boss, application=app, eligible=True)
    fr.submit_review(app, fr.reviewer(), actor=boss)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION


# --- right to reply -------------------------------------------------------------------------------


def test_reply_rules():
    member = fr.applicant()
    app = fr.awaiting_decision(member=member, access_mode="large_scale", requests={"zellik": 60000}, duration=3)
    with pytest.raises(PermissionDenied):
        review_services.applicant_reply(actor=fr.UserFactory(), application=app, text="Not mine")
    with pytest.raises(ValidationError):
        review_services.applicant_reply(actor=member, application=app, text="   ")
    review_services.applicant_reply(actor=member, application=app, text="We will cut the storage in half.")
    with pytest.raises(ValidationError):
        review_services.applicant_reply(actor=member, application=app, text="Once more")
    assert ApplicantReply.objects.filter(application=app).count() == 1


def test_no_reply_without_the_right_or_before_the_reviews():
    member = fr.applicant()
    fast = fr.awaiting_decision(member=member, access_mode="fast_lane")  # no right_to_reply
    with pytest.raises(ValidationError):
        review_services.applicant_reply(actor=member, application=fast, text="Please")
    early = fr.application(
        status=ApplicationStatus.IN_REVIEW,
        member=member,
        access_mode="large_scale",
        requests={"zellik": 60000},
        duration=3,
    )
    with pytest.raises(ValidationError):
        review_services.applicant_reply(actor=member, application=early, text="Please")


def test_applicant_sees_comments_without_names_and_replies(client):
    member = fr.applicant()
    app = fr.awaiting_decision(member=member, access_mode="large_scale", requests={"zellik": 60000}, duration=3)
    names = [a.reviewer.display_name for a in app.assignments.select_related("reviewer")]
    client.force_login(member)
    url = reverse("review:application_feedback", args=[app.reference])
    page = client.get(url).content.decode()
    assert "Clear plan; justify the storage." in page
    assert "Solid team." not in page  # comments for the committee stay with the committee
    for name in names:
        assert name not in page
    response = client.post(url, {"text": "Storage halved, thank you."})
    assert response.status_code == 302
    assert ApplicantReply.objects.get(application=app).text == "Storage halved, thank you."
    # The committee sees it on the decision page.
    client.force_login(fr.manager())
    decision = client.get(reverse("review:application_decision", args=[app.reference])).content.decode()
    assert "Storage halved, thank you." in decision


def test_feedback_page_of_another_organisation_is_404(client):
    app = fr.awaiting_decision()
    client.force_login(fr.applicant())
    assert client.get(reverse("review:application_feedback", args=[app.reference])).status_code == 404
