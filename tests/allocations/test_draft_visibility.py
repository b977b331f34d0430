"""A draft belongs to its organisation until it is submitted: staff with oversight (ethics officers,
operators, allocation managers, all with MFA) get 404 for it on every page and endpoint that reads an
application, and find it in no list; once submitted they read it. A draft withdrawn before it was
submitted stays the organisation's own."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import Role
from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from tests import factories as f
from tests.factories import AllocationManagerFactory, EthicsOfficerFactory, OperatorFactory

pytestmark = pytest.mark.django_db

OVERSIGHT = [EthicsOfficerFactory, OperatorFactory, AllocationManagerFactory]


@pytest.fixture
def confidential(member, organisation, capacity):
    """A complete draft, ready to submit, with a project plan attached."""
    app = f.complete(member, organisation, attachment=True)
    return app, app.attachments.get()


def api_client(user) -> APIClient:
    client = APIClient()
    client.credentials(**f.auth(f.token(user)))
    return client


def reads(client, api, app, attachment) -> dict[str, int]:
    """The status of every read of one application: pages and API."""
    return {
        "detail page": client.get(app.get_absolute_url()).status_code,
        "attachment download": client.get(
            reverse("applications:attachment_download", args=[app.reference, attachment.pk])).status_code,
        "API detail": api.get(f"/api/v1/applications/{app.reference}/").status_code,
        "API attachment download": api.get(
            f"/api/v1/applications/{app.reference}/attachments/{attachment.pk}/").status_code,
    }


def listed(client, api, app) -> dict[str, bool]:
    page = client.get(reverse("applications:application_list")).content.decode()
    api_refs = [row["reference"] for row in api.get("/api/v1/applications/").json()["results"]]
    return {"list page": app.reference in page, "API list": app.reference in api_refs}


# Once submitted, every role with oversight reads the application; its documents follow the attachment rule
# (applications.permissions.attachment_access): the managers read them, an ethics officer only while the
# ethics review is pending or decided by an officer (this one is cleared automatically), an operator never.
@pytest.mark.parametrize(("staff_factory", "documents"), [(EthicsOfficerFactory, 404), (OperatorFactory, 404),
                                                          (AllocationManagerFactory, 200)])
def test_staff_with_oversight_get_404_for_a_draft_and_read_it_once_submitted(client, member, confidential,
                                                                           staff_factory, documents):
    app, attachment = confidential
    staff = staff_factory(totp=True)
    client.force_login(staff)
    api = api_client(staff)
    assert reads(client, api, app, attachment) == dict.fromkeys(
        ["detail page", "attachment download", "API detail", "API attachment download"], 404)
    assert listed(client, api, app) == {"list page": False, "API list": False}

    services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)

    assert reads(client, api, app, attachment) == {"detail page": 200, "API detail": 200,
                                                   "attachment download": documents,
                                                   "API attachment download": documents}
    assert listed(client, api, app) == {"list page": True, "API list": True}


@pytest.mark.parametrize("staff_factory", OVERSIGHT)
def test_a_draft_withdrawn_before_submission_stays_hidden(client, member, confidential, staff_factory):
    app, attachment = confidential
    services.application_withdraw(actor=member, application=app, reason="Not this year.")
    staff = staff_factory(totp=True)
    client.force_login(staff)
    api = api_client(staff)
    assert set(reads(client, api, app, attachment).values()) == {404}
    assert listed(client, api, app) == {"list page": False, "API list": False}
    # The organisation itself still reads it.
    client.force_login(member)
    assert set(reads(client, api_client(member), app, attachment).values()) == {200}


def test_the_committee_overview_and_the_staff_dossier_skip_drafts_withdrawn_before_submission(
        client, member, organisation, confidential):
    app, _ = confidential
    services.application_withdraw(actor=member, application=app)
    withdrawn_later = f.mark_submitted(f.draft(member, organisation, title="Submitted, then withdrawn"))
    services.application_withdraw(actor=member, application=withdrawn_later)
    manager = AllocationManagerFactory(totp=True)
    client.force_login(manager)
    page = client.get(reverse("review:application_list")).content.decode()
    assert app.reference not in page and withdrawn_later.reference in page
    api = api_client(manager)
    refs = [row["reference"] for row in api.get("/api/v1/staff/applications/").json()["results"]]
    assert refs == [withdrawn_later.reference]
    assert client.get(reverse("compliance:staff_dossier", args=[app.reference])).status_code == 404
    assert api.post(f"/api/v1/staff/applications/{app.reference}/dossier/", {}, format="json").status_code == 404
    assert client.get(reverse("compliance:staff_dossier", args=[withdrawn_later.reference])).status_code == 200


def test_staff_who_belong_to_the_organisation_still_read_its_drafts(client, member, confidential):
    app, attachment = confidential
    f.give_role(member, Role.ALLOCATION_MANAGER)
    f.activate_totp(member)
    client.force_login(member)
    assert set(reads(client, api_client(member), app, attachment).values()) == {200}
    assert listed(client, api_client(member), app) == {"list page": True, "API list": True}
