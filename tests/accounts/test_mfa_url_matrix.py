"""Staff roles hold only after a second factor, on every URL the portal routes.

Every routed URL is requested as a staff member of each role whose sign-in stopped at the password, with
its ids pointing at another organisation's application, allocation, attachment, review, report...: none
answers with that organisation's data, and no POST changes anything. The same person, once the sign-in
passed the second factor, reads what their role allows, so the walk can tell a refusal from a blind spot.

A URL added to the portal fails `test_every_routed_url_is_walked` until its ids can be filled here."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiToken, Membership, Notification
from accounts.services import api_token_create, invitation_create, ssh_key_add
from allocations.applications.models import Attachment
from allocations.applications.services import attachment_path
from allocations.grants.services import change_request_submit
from allocations.provisioning.models import HandoverTask
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

ROLES = ["reviewer", "ethics_officer", "allocation_manager", "operator", "admin"]



def not_walked(route: str) -> bool:
    """Regular-expression routes are not requested: the identity provider's sign-in and callback (a
    redirect to the provider, or a refusal without its state) and the API's catch-all 404."""
    return "^" in route

PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
ALLOCATION_ROUTES = ("allocations/", "staff/allocations/", "api/v1/allocations/", "api/v1/staff/allocations/",
                     "staff/provisioning/allocations/", "api/v1/staff/provisioning/allocations/",
                     "staff/final-reports/")


def routed_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(route, view name with its namespace) of every URL pattern, the admin's excepted."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                continue
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from routed_patterns(pattern, route, inner.strip(":"))
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name


class World:
    """Another organisation's whole journey (full_dossier: reviewed, cleared with a condition,
    approved on both sites, provisioned), plus what each URL can point at."""

    def __init__(self):
        dossier = f.full_dossier()
        self.application = dossier["application"]
        self.allocation = dossier["allocation"]
        self.applicant = dossier["applicant"]
        self.reviewer = dossier["reviewer"]
        self.organisation = dossier["organisation"]
        Membership.objects.filter(user=self.applicant).update(role="owner")
        self.attachment = self._attachment()
        invitation, _secret = invitation_create(actor=self.applicant, organisation=self.organisation,
                                                email="newcomer@example.org")
        token, _secret = api_token_create(actor=self.applicant, name="laptop", scopes=["read"])
        ssh_key = ssh_key_add(actor=self.applicant, text=f.ssh_key_line("applicant@laptop"))
        later = self.allocation.end_date.replace(year=self.allocation.end_date.year + 1).isoformat()
        change = change_request_submit(actor=self.applicant, allocation=self.allocation, kind="extension",
                                       payload={"end_date": later}, justification="More epochs")
        handover = HandoverTask.objects.create(site=f.site("charleroi"), allocation=self.allocation, changes={},
                                               desired_version=1)
        report = f.queued_period_report()
        team_member = self.application.team.first() or self.application.team.create(
            full_name="Tess Teammate", email="tess@example.org")
        condition = self.allocation.application.ethics_review.conditions.get()
        notification = Notification.objects.filter(recipient=dossier["manager"]).first()
        f.final_report(self.allocation, status="submitted")
        output = f.output(self.allocation, kind="publication", recorded_by=self.applicant)
        aid_link = f.link(self.organisation)
        aid_line = f.ledger_line(self.organisation, "1250.00", self.allocation.start_date,
                                 allocation=self.allocation)
        self.by_segment = {
            "organisations": self.organisation.pk, "attachments": self.attachment.pk, "team": team_member.pk,
            "reviews": self._assignment_pk(), "change-requests": change.pk, "changes": change.pk,
            "conditions": condition.pk, "reports": report.pk, "handovers": handover.pk, "tokens": token.pk,
            "ssh-keys": ssh_key.pk,
            "members": Membership.objects.get(user=self.applicant).pk, "invitations": invitation.pk,
            "notifications": notification.pk, "outputs": output.pk, "terms": f.terms_version().pk,
            "links": aid_link.pk, "lines": aid_line.pk,
        }
        # What only this organisation's data contains.
        self.markers = [self.application.reference, self.application.title, self.organisation.legal_name,
                        self.applicant.email, self.allocation.reference]

    def _attachment(self) -> Attachment:
        attachment = Attachment.objects.create(
            application=self.application, kind="project_plan", original_name="confidential-plan.pdf",
            stored_name="matrix-plan.pdf", size=len(f.pdf_bytes()), sha256="0" * 64, uploaded_by=self.applicant)
        path = attachment_path(attachment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.pdf_bytes())
        return attachment

    def _assignment_pk(self) -> int:
        return self.application.assignments.get(reviewer=self.reviewer).pk

    def kwargs_for(self, route: str) -> dict:
        values = {}
        for match in PLACEHOLDER.finditer(route):
            name = match["name"]
            before = route[:match.start()].rstrip("/").rsplit("/", 1)[-1]
            if name == "reference":
                values[name] = (self.allocation.reference if route.startswith(ALLOCATION_ROUTES)
                                else self.application.reference)
            elif name == "code":
                values[name] = "zellik"
            elif name == "kind":
                values[name] = "extension"
            elif name in ("token", "key", "uidb36"):  # secrets mailed to a person: a guess finds nothing
                values[name] = "not-a-token-" + "x" * 30
            elif before == "keys":  # allauth's security keys: the other organisation's person has none
                values[name] = 999_999
            elif before in self.by_segment:
                values[name] = self.by_segment[before]
            else:
                raise LookupError(f"no value for <{name}> after '{before}/' in {route}")
        return values

    def url(self, route: str) -> str:
        kwargs = self.kwargs_for(route)

        def fill(match):
            return str(kwargs[match["name"]])

        return "/" + PLACEHOLDER.sub(fill, route)

    def shows_data(self, response) -> bool:
        if response.status_code != 200:
            return False
        if response.get("Content-Type", "").split(";")[0] in ("application/pdf", "text/csv",
                                                               "application/octet-stream"):
            return True
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        return any(marker in text for marker in self.markers)


def walked_routes():
    return sorted({route for route, _name in routed_patterns() if not not_walked(route)})


def admin_urls() -> list[str]:
    return ["/admin/"] + [f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
                          for model in admin.site._registry]


def staff_member(role: str, world: World):
    """A staff member of `role` who also belongs to an organisation of their own with a draft."""
    person = world.reviewer if role == "reviewer" else f.STAFF_FACTORIES[role]()
    own = f.OrganisationFactory(legal_name=f"Own Lab of {role}")
    Membership.objects.create(user=person, organisation=own, role="owner")
    own_draft = f.draft(person, own, title=f"Own draft of the {role}")
    return person, own_draft


def test_every_routed_url_is_walked():
    world = World()
    for route in walked_routes():
        assert world.url(route).startswith("/"), route  # raises LookupError for a route it cannot fill
    assert len(walked_routes()) > 100


@pytest.mark.parametrize("role", ROLES)
def test_without_a_second_factor_no_url_shows_another_organisations_data(client, role):
    world = World()
    person, own_draft = staff_member(role, world)
    f.sign_in_without_second_factor(client, person)
    events_before = AuditEvent.objects.count()

    leaks = []
    for route in walked_routes():
        url = world.url(route)
        response = client.get(url)
        if world.shows_data(response):
            leaks.append(f"GET {url}")
        if PLACEHOLDER.search(route):  # an action on the other organisation's objects
            posted = client.post(url, {})
            if 200 <= posted.status_code < 300:
                leaks.append(f"POST {url} -> {posted.status_code}")
    for url in admin_urls():
        if client.get(url).status_code == 200:
            leaks.append(f"GET {url}")
    assert leaks == []
    assert AuditEvent.objects.count() == events_before, "a POST without a second factor changed something"

    # The person still acts as the applicant they also are.
    own = client.get(f"/applications/{own_draft.reference}/")
    assert own.status_code == 200
    assert own_draft.title in own.content.decode()


EXPECTED_WITH_MFA = {
    "reviewer": "/staff/reviews/{assignment}/",
    "ethics_officer": "/staff/ethics/{application}/",
    "allocation_manager": "/staff/allocations/{allocation}/",
    "operator": "/applications/{application}/",
    "admin": "/api/v1/staff/applications/{application}/",
}


@pytest.mark.parametrize("role", ROLES)
def test_after_the_second_factor_the_role_reads_what_it_may(client, role):
    world = World()
    person, _own_draft = staff_member(role, world)
    client.force_login(person)  # a sign-in that passed the second factor (tests/factories/sessions.py)

    readable = {world.url(route) for route in walked_routes() if world.shows_data(client.get(world.url(route)))}
    expected = EXPECTED_WITH_MFA[role].format(assignment=world.by_segment["reviews"],
                                              application=world.application.reference,
                                              allocation=world.allocation.reference)
    assert expected in readable
    if role == "admin":
        assert client.get("/admin/accounts/organisation/").status_code == 200


def test_a_token_of_a_staff_member_without_an_authenticator_reads_nothing(client):
    world = World()
    person = f.STAFF_FACTORIES["allocation_manager"](totp=False)
    Membership.objects.create(user=person, organisation=f.OrganisationFactory(), role="owner")
    _token, secret = api_token_create(actor=person, name="script", scopes=["read"])
    response = client.get(f"/api/v1/applications/{world.application.reference}/", **f.auth(secret))
    assert response.status_code in (403, 404)
    assert not world.shows_data(response)
    assert ApiToken.objects.filter(user=person).exists()
