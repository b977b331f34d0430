"""Every URL of the allocations app, GET and POST: people outside the organisation get 404,
anonymous visitors are sent to the login page. A new URL must be added to the tables below."""

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver, reverse

from allocations.applications import services
from allocations.applications.models import Application
from tests import factories as f
from tests.factories import AllocationManagerFactory, EthicsOfficerFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

# URL name -> the arguments after the reference (None: the URL takes no reference).
OBJECT_URLS = {
    "application_detail": (),
    "step_project": (), "step_resources": (), "step_model": (), "step_ai_act": (), "step_team": (),
    "team_member_remove": ("team_member",), "step_ethics": (), "step_attachments": (),
    "attachment_download": ("attachment",), "attachment_delete": ("attachment",), "step_review": (),
    "application_submit": (), "application_withdraw": (), "application_reopen": (),
}
LIST_URLS = {"application_list", "application_create"}  # no object: each user sees their own
PUBLIC_URLS = {"team_confirm"}  # the mailed token is the credential
# Staff with oversight may read; every other URL is for members of the organisation only.
OVERSIGHT_READABLE = {"application_detail", "attachment_download"}


def allocations_url_names():
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "applications":
            return {p.name for p in pattern.url_patterns}
    raise AssertionError("the allocations URLs are not included in portal/urls.py")


def test_every_url_is_in_the_tables():
    missing = allocations_url_names() - set(OBJECT_URLS) - LIST_URLS - PUBLIC_URLS
    assert not missing, f"add these URLs to tests/allocations/test_application_permissions.py: {sorted(missing)}"


@pytest.fixture
def target(member, organisation, capacity):
    """One application of the first organisation, with a team member and an attachment."""
    app = f.draft(member, organisation, title="Confidential project")
    team_member = services.team_member_add(actor=member, application=app, full_name="Ines",
                                           email="ines@example.eu", cluster_username="ines")
    attachment = services.attachment_add(actor=member, application=app, kind="other", upload=f.pdf_upload())
    objects = {"team_member": team_member.pk, "attachment": attachment.pk}
    urls = {name: reverse(f"applications:{name}", args=[app.reference, *(objects[a] for a in extra)])
            for name, extra in OBJECT_URLS.items()}
    return app, urls


def state(app):
    app = Application.objects.get(pk=app.pk)
    return app.status, app.title, app.team.count(), app.attachments.count()


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_other_organisation_gets_404(client, other_org_user, target, name, method):
    app, urls = target
    before = state(app)
    client.force_login(other_org_user)
    response = getattr(client, method)(urls[name], {"title": "Hijacked", "reason": "x"})
    assert response.status_code == 404
    assert state(app) == before


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login(client, target, name, method):
    app, urls = target
    before = state(app)
    response = getattr(client, method)(urls[name])
    assert response.status_code == 302
    assert response.url.startswith(reverse(settings.LOGIN_URL))
    assert state(app) == before


@pytest.mark.parametrize("name", sorted(LIST_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_list_and_create(client, name, method):
    response = getattr(client, method)(reverse(f"applications:{name}"))
    assert response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL))


def test_list_and_create_do_not_reveal_other_organisations(client, other_org_user, target, organisation):
    app, _ = target
    client.force_login(other_org_user)
    listing = client.get(reverse("applications:application_list"), {"q": app.reference})
    page = listing.content.decode()
    assert listing.status_code == 200
    assert "0 applications" in page and "Confidential project" not in page and app.get_absolute_url() not in page
    create = client.post(reverse("applications:application_create"),
                         {"organisation": organisation.pk, "title": "Into their organisation"})
    assert create.status_code == 200
    assert not Application.objects.filter(title="Into their organisation").exists()


def test_team_confirm_is_public_but_needs_a_valid_token(client):
    url = reverse("applications:team_confirm", args=["guessed-token"])
    assert client.get(url).status_code == 200  # the page itself says nothing about any application
    assert client.post(url).status_code == 404


@pytest.mark.parametrize("staff_factory", [AllocationManagerFactory, EthicsOfficerFactory])
@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
def test_staff_with_oversight_read_but_never_act(client, target, staff_factory, name):
    app, urls = target
    f.mark_submitted(app)  # a draft is its organisation's alone (tests/allocations/test_draft_visibility.py)
    before = state(app)
    client.force_login(staff_factory())
    expected_get = 200 if name in OVERSIGHT_READABLE else 404
    if name == "attachment_download" and staff_factory is EthicsOfficerFactory:
        # The documents follow the attachment rule (tests/allocations/test_attachment_access.py): an ethics
        # officer reads them while an ethics review is pending or decided by an officer; here there is none.
        expected_get = 404
    assert client.get(urls[name]).status_code == expected_get
    post = client.post(urls[name], {"title": "Changed by staff"})
    assert post.status_code in (404, 405)
    assert state(app) == before


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
def test_reviewers_use_their_own_pages(client, target, name):
    """Reviewers see only assigned applications, through the review pages; none of these."""
    app, urls = target
    client.force_login(ReviewerFactory())
    assert client.get(urls[name]).status_code == 404


def test_members_reach_every_url(member_client, target):
    app, urls = target
    for name in OBJECT_URLS:
        if name in {"team_member_remove", "attachment_delete", "application_submit", "application_reopen"}:
            continue  # POST only (checked in the journey tests)
        assert member_client.get(urls[name]).status_code == 200, name
