"""A reviewer declares a conflict after assignment: the manager sees it with the reason, the assignment
is released, and a replacement is assigned from the pool, conflicted and over-loaded reviewers left out
and each reviewer's open reviews shown; the pages and the API alike."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from allocations.applications.models import ApplicationStatus
from allocations.review import selectors, services
from allocations.review.models import AssignmentStatus, ReviewAssignment
from tests import factories as f

pytestmark = pytest.mark.django_db

REASON = "I advised their CTO on this very project last spring."


@pytest.fixture
def boss():
    return f.manager()


@pytest.fixture
def app():
    return f.application(status=ApplicationStatus.IN_REVIEW)


@pytest.fixture
def conflicted(app, boss):
    """The technical reviewer, who declared a conflict right after being assigned."""
    person = f.reviewer()
    assignment = services.reviewer_assign(actor=boss, application=app, reviewer=person, kind="technical")
    services.reviewer_declare(actor=person, assignment=assignment, has_conflict=True, statement=REASON)
    return person


def reviewers_page(client, boss, app) -> str:
    client.force_login(boss)
    return client.get(reverse("review:application_reviewers", args=[app.reference])).content.decode()


def candidate_row(page: str, person, kind: str = "technical") -> str:
    """The row of `person` in the table of eligible reviewers of one kind."""
    panel = page[page.index(f'id="kind-{kind}-heading"'):]
    return re.search(rf"<tr><td>{re.escape(person.display_name)}.*?</tr>", panel, re.S).group(0)


def offered(page: str, kind: str = "technical") -> list[str]:
    """The options of the assignment form of one kind (values)."""
    select = re.search(rf'<select name="{kind}-reviewer".*?</select>', page, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def test_the_manager_sees_the_declared_conflict_with_its_reason(client, boss, app, conflicted):
    page = reviewers_page(client, boss, app)
    assert "Conflicts of interest declared" in page and REASON in page
    row = candidate_row(page, conflicted)
    assert "None detected" not in row and ">assigned<" not in row
    assert "declared a conflict of interest with this application" in row and REASON in row
    assert "technical review: 0 of 1 assigned" in page.replace("Technical", "technical")
    assert str(conflicted.pk) not in offered(page)


def test_the_assignment_is_released_and_a_replacement_is_assigned_from_the_pool(client, boss, app, conflicted):
    assignment = ReviewAssignment.objects.get(application=app, reviewer=conflicted)
    assert assignment.status == AssignmentStatus.CONFLICTED and assignment.coi_statement == REASON
    assert selectors.review_kinds_needed(app) == [("technical", 1, 0)]
    assert selectors.reviewer_loads([conflicted.pk]) == {}
    replacement = f.reviewer()
    page = reviewers_page(client, boss, app)
    assert offered(page) == [str(replacement.pk)]
    response = client.post(reverse("review:application_reviewers", args=[app.reference]),
                           {"technical-reviewer": replacement.pk})
    assert response.status_code == 302
    assert ReviewAssignment.objects.get(application=app, reviewer=replacement).status == AssignmentStatus.ASSIGNED
    assert selectors.review_kinds_needed(app) == [("technical", 1, 1)]
    # The conflicted reviewer stays out, with the reason, on the page and in the service.
    response = client.post(reverse("review:application_reviewers", args=[app.reference]),
                           {"technical-reviewer": conflicted.pk})
    body = response.content.decode()
    assert response.status_code == 200 and "Assignment blocked: likely conflict of interest." in body
    assert REASON in body
    assert ReviewAssignment.objects.filter(application=app, reviewer=conflicted).count() == 1


def test_the_decision_page_shows_the_conflict_and_its_reason(client, boss, app, conflicted):
    client.force_login(boss)
    page = client.get(reverse("review:application_decision", args=[app.reference])).content.decode()
    assert "Conflict of interest declared" in page and REASON in page


def test_load_counts_open_reviews_on_applications_in_review_only(app, boss):
    person = f.reviewer()
    elsewhere = [f.application(status=ApplicationStatus.IN_REVIEW) for _ in range(4)]
    open_one, declared, reviewed, conflicted_one = (
        services.reviewer_assign(actor=boss, application=a, reviewer=person, kind="technical") for a in elsewhere)
    services.reviewer_declare(actor=person, assignment=declared, has_conflict=False)
    services.reviewer_declare(actor=person, assignment=reviewed, has_conflict=False)
    services.review_submit(actor=person, assignment=reviewed, scores=f.full_scores(elsewhere[2]),
                           recommendation="approve")
    services.reviewer_declare(actor=person, assignment=conflicted_one, has_conflict=True, statement="Family.")
    assert selectors.reviewer_loads([person.pk]) == {person.pk: 2}  # to declare, and accepted
    # An open assignment on an application no longer in review is not work waiting.
    elsewhere[0].__class__.objects.filter(pk=elsewhere[0].pk).update(status=ApplicationStatus.WITHDRAWN)
    assert selectors.reviewer_loads([person.pk]) == {person.pk: 1}
    [candidate] = selectors.reviewer_candidates(app, "technical")
    assert (candidate.load, candidate.assignable) == (1, True)


def test_an_over_loaded_reviewer_is_shown_but_not_offered_nor_assigned(client, settings, boss, app):
    settings.AIF_REVIEWER_MAX_OPEN_ASSIGNMENTS = 2
    busy, free = f.reviewer(), f.reviewer()
    for _ in range(2):
        services.reviewer_assign(actor=boss, application=f.application(status=ApplicationStatus.IN_REVIEW),
                                 reviewer=busy, kind="technical")
    page = reviewers_page(client, boss, app)
    assert offered(page) == [str(free.pk)]
    busy_row = candidate_row(page, busy)
    assert "2 of 2" in busy_row and "limit reached" in busy_row
    assert f"{free.display_name} (0 open reviews)" in page
    with pytest.raises(ValidationError) as exc:
        services.reviewer_assign(actor=boss, application=app, reviewer=busy, kind="technical")
    assert "already has 2 open reviews; a reviewer takes at most 2 at a time" in exc.value.message_dict["reviewer"][0]
    assert not ReviewAssignment.objects.filter(application=app).exists()
    response = client.post(reverse("review:application_reviewers", args=[app.reference]),
                           {"technical-reviewer": busy.pk})
    assert response.status_code == 200 and "already has 2 open reviews" in response.content.decode()
    assert not ReviewAssignment.objects.filter(application=app).exists()


def test_candidates_are_ordered_assignable_first_least_loaded_first(app, boss):
    light, heavy = f.reviewer(), f.reviewer()
    services.reviewer_assign(actor=boss, application=f.application(status=ApplicationStatus.IN_REVIEW),
                             reviewer=heavy, kind="technical")
    blocked = f.reviewer()
    assignment = services.reviewer_assign(actor=boss, application=app, reviewer=blocked, kind="technical")
    services.reviewer_declare(actor=blocked, assignment=assignment, has_conflict=True, statement=REASON)
    order = [(c.reviewer, c.load, c.assignable) for c in selectors.reviewer_candidates(app, "technical")]
    assert order == [(light, 0, True), (heavy, 1, True), (blocked, 0, False)]


# --- the API ------------------------------------------------------------------------------------------

def api_for(user) -> APIClient:
    api = APIClient()
    api.credentials(**f.auth(f.token(user)))
    return api


def test_the_api_shows_the_declared_conflict_and_the_candidates(boss, app, conflicted):
    api = api_for(boss)
    data = api.get(f"/api/v1/staff/applications/{app.reference}/").json()
    [row] = data["assignments"]
    assert (row["reviewer"], row["status"], row["coi_statement"]) == (conflicted.pk, "conflicted", REASON)
    assert row["coi_declared_at"]
    replacement = f.reviewer()
    candidates = api.get(f"/api/v1/staff/applications/{app.reference}/candidates/?kind=technical").json()
    assert [(c["reviewer"], c["assignable"], c["open_assignments"]) for c in candidates] == [
        (replacement.pk, True, 0), (conflicted.pk, False, 0)]
    assert any(REASON in reason for reason in candidates[1]["conflicts"])
    assert candidates[0]["max_open_assignments"] == 6
    response = api.post(f"/api/v1/staff/applications/{app.reference}/assignments/",
                        {"reviewer": replacement.pk, "kind": "technical"}, format="json")
    assert response.status_code == 201
    assert api.get(f"/api/v1/staff/applications/{app.reference}/candidates/?kind=technical").json()[0][
        "assigned"] is True


def test_the_candidates_api_refuses_a_bad_kind_and_other_roles(boss, app):
    url = f"/api/v1/staff/applications/{app.reference}/candidates/"
    assert api_for(boss).get(url + "?kind=financial").status_code == 400
    assert api_for(boss).get(url).status_code == 400
    assert api_for(f.reviewer()).get(url + "?kind=technical").status_code == 403
    assert api_for(boss).get("/api/v1/staff/applications/AIF-2026-999999/candidates/?kind=technical").status_code \
        == 404
