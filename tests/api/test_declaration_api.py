"""The declaration of honour through the API: GET …/declaration/ gives the text to make; a submission without the
current version is a 400 on declaration_version and changes nothing."""

import pytest

from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, SubmissionDeclaration
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def state(app):
    app = Application.objects.get(pk=app.pk)
    return (app.status, app.submitted_at, AuditEvent.objects.count(), SubmissionDeclaration.objects.count())


def api_url(app, suffix):
    return f"/api/v1/applications/{app.reference}/{suffix}"


def test_the_api_gives_the_declaration_to_make(as_user, applicant, capacity):
    app = f.complete(applicant)
    body = as_user(applicant).get(api_url(app, "declaration/"), HTTP_ACCEPT_LANGUAGE="nl").json()
    assert body["version"] == DECLARATION_VERSION and body["language"] == "nl"
    assert body["text"].startswith("Ik verklaar op erewoord dat")
    assert len(body["statements"]) == 4


@pytest.mark.parametrize("body", [{}, {"declaration_version": ""}, {"declaration_version": "2020-1"}])
def test_the_api_refuses_a_submission_without_the_current_declaration(as_user, applicant, capacity, body):
    app = f.complete(applicant)
    client = as_user(applicant)  # creating the token is audited: before the snapshot
    before = state(app)
    response = client.post(api_url(app, "submit/"), body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == ["declaration_version"]
    assert state(app) == before


def test_the_api_submits_with_the_declaration(as_user, applicant, capacity):
    app = f.complete(applicant)
    response = as_user(applicant).post(api_url(app, "submit/"), {"declaration_version": DECLARATION_VERSION},
                                       format="json")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert SubmissionDeclaration.objects.get(application=app).declared_by == applicant
