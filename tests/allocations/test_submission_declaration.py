"""The declaration of honour: every submission carries one (who, when, the text), through the page and the API;
without it, or with an outdated version, nothing changes."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus, SubmissionDeclaration
from allocations.applications.services import application_transition
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

DECLARE = {"declaration": "on", "declaration_version": DECLARATION_VERSION}


def state(app):
    """What a refused submission must not change."""
    app = Application.objects.get(pk=app.pk)
    return (app.status, app.submitted_at, app.decision_due, AuditEvent.objects.count(),
            SubmissionDeclaration.objects.count())


def page_url(name, app):
    return reverse(f"applications:{name}", args=[app.reference])


# --- the service ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version, message", [
    (None, "Confirm the declaration of honour"),
    ("", "Confirm the declaration of honour"),
    ("2020-1", "The declaration of honour has changed since it was shown to you"),
])
def test_submission_without_the_current_declaration_changes_nothing(member, organisation, capacity, version,
                                                                    message):
    app = f.complete(member, organisation)
    before = state(app)
    with pytest.raises(ValidationError) as exc:
        services.application_submit(actor=member, application=app, declaration_version=version)
    assert list(exc.value.error_dict) == ["declaration_version"]
    assert message in exc.value.messages[0]
    assert state(app) == before


def test_the_declaration_is_stored_with_the_submission_and_audited(member, organisation, capacity):
    app = f.complete(member, organisation)
    app = services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    declaration = SubmissionDeclaration.objects.get(application=app)
    assert (declaration.declared_by, declaration.version, declaration.language) == (member, DECLARATION_VERSION, "en")
    assert declaration.declared_at <= app.submitted_at
    assert declaration.text.startswith("I declare on my honour that:")
    assert f"{organisation.legal_name} is eligible for the access it applies for" in declaration.text
    event = AuditEvent.objects.get(action="application.declaration_made")
    assert event.actor_id == member.pk and event.object_id == str(app.pk)
    assert event.changes == {"declaration_id": declaration.pk, "version": DECLARATION_VERSION, "language": "en",
                             "sha256": hashlib.sha256(declaration.text.encode()).hexdigest()}


def test_the_text_is_stored_in_the_language_it_was_read_in(member, organisation, capacity):
    app = f.complete(member, organisation)
    with translation.override("fr"):
        services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    declaration = SubmissionDeclaration.objects.get(application=app)
    assert declaration.language == "fr"
    assert declaration.text.startswith("Je déclare sur l'honneur que")


def test_an_incomplete_application_is_refused_before_the_declaration(member, organisation):
    app = f.draft(member, organisation)
    before = state(app)
    with pytest.raises(services.SubmissionIncomplete):
        services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert state(app) == before


def test_each_submission_makes_its_own_declaration(member, organisation, capacity):
    app = f.submitted(member, organisation)
    application_transition(actor=f.AllocationManagerFactory(), application=app,
                           to=ApplicationStatus.REVISION_REQUESTED)
    services.application_reopen(actor=member, application=app)
    services.application_submit(actor=member, application=Application.objects.get(pk=app.pk),
                                declaration_version=DECLARATION_VERSION)
    assert SubmissionDeclaration.objects.filter(application=app).count() == 2


# --- the page ------------------------------------------------------------------------------------------------


def test_the_review_step_shows_the_declaration(member_client, app_complete):
    page = member_client.get(page_url("step_review", app_complete)).content.decode()
    assert "Declaration of honour" in page
    assert f"{app_complete.organisation.legal_name} is eligible for the access it applies for" in page
    assert f'name="declaration_version" value="{DECLARATION_VERSION}"' in page
    assert 'type="checkbox" name="declaration"' in page


def test_submitting_without_ticking_the_declaration_changes_nothing(member_client, app_complete):
    before = state(app_complete)
    response = member_client.post(page_url("application_submit", app_complete),
                                  {"declaration_version": DECLARATION_VERSION})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-error-summary' in page and "The application was not submitted: please correct the following" in page
    assert '<a href="#id_declaration">I make this declaration of honour: Tick the box' in page
    assert '<ul class="errorlist" id="id_declaration_error">' in page
    assert 'aria-describedby="id_declaration_error"' in page
    assert state(app_complete) == before


def test_an_outdated_declaration_on_the_page_is_refused_at_the_box(member_client, app_complete):
    before = state(app_complete)
    response = member_client.post(page_url("application_submit", app_complete),
                                  {"declaration": "on", "declaration_version": "2020-1"})
    assert response.status_code == 200
    assert "The declaration of honour has changed since it was shown to you" in response.content.decode()
    assert state(app_complete) == before


def test_submitting_with_the_declaration(member_client, member, app_complete):
    response = member_client.post(page_url("application_submit", app_complete), DECLARE)
    assert response.status_code == 302
    declaration = SubmissionDeclaration.objects.get(application=app_complete)
    assert declaration.declared_by == member
    detail = member_client.get(response.url).content.decode()
    assert f"Made by {member.display_name} on" in detail and f"(text version {DECLARATION_VERSION})" in detail
