"""Erasure end to end: after it, nothing the staff can open or produce names the person.

A granted, provisioned application whose applicant is on its team (and named in a change request), and
one of its reviewers, are both erased. Then an administrator (every staff role, and the Django admin)
walks every page and API endpoint reachable from the URL patterns, following the links it finds, and
downloads the reports generated after the erasure: no HTML page, JSON document, PDF or CSV may hold
their name, address or cluster username."""

from __future__ import annotations

import io
import re
from collections import deque

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from pypdf import PdfReader

from accounts.privacy import user_erase
from allocations.applications.models import TeamMember
from allocations.grants import services as grant_services
from allocations.grants.models import ChangeKind
from allocations.provisioning.services import sync_allocation
from compliance.models import ReportAudience
from compliance.reports import services as report_services
from tests import factories as f

pytestmark = pytest.mark.django_db

APPLICANT = ("Zora Zimmerwald", "zora.zimmerwald@vision.example", "zorazim")
REVIEWER = ("Quentin Quibbleworth", "quentin.quibbleworth@panel.example")
# Lower-case pieces of what must disappear: names, addresses (and their local parts), usernames.
NEEDLES = ["zimmerwald", "zora", "zorazim", "zzim2", "quibbleworth", "quentin"]

SKIPPED_PREFIXES = ("/static/", "/accounts/", "/i18n/", "/jsi18n/", "/admin/logout/", "/admin/jsi18n/",
                    "/api/schema", "/api/docs")
REFERENCE_PARAMS = re.compile(r"<(?:ref|str|api_ref):reference>")
CODE_PARAMS = re.compile(r"<(?:slug|api_code):code>")


def _rename(user, name: str, email: str) -> None:
    user.full_name, user.email = name, email
    user.save(update_fields=["full_name", "email"])
    EmailAddress.objects.filter(user=user).update(email=email)


@pytest.fixture
def erased_record(run_on_commit):
    """The record of an application after its applicant and one reviewer were erased, with a staff dossier
    and a period report generated afterwards. Returns the application and an administrator."""
    record = f.full_dossier()
    app, allocation, applicant, reviewer = (record[k] for k in ("application", "allocation", "applicant",
                                                                 "reviewer"))
    _rename(applicant, *APPLICANT[:2])
    _rename(reviewer, *REVIEWER)
    TeamMember.objects.create(application=app, full_name=APPLICANT[0], email=APPLICANT[1],
                              cluster_username=APPLICANT[2], user=applicant, invited_at=timezone.now(),
                              confirmed_at=timezone.now())
    sync_allocation(allocation_id=allocation.pk)
    grant_services.change_request_submit(
        actor=applicant, allocation=allocation, kind=ChangeKind.ADD_MEMBERS, justification="Second account",
        payload={"members": [{"full_name": APPLICANT[0], "email": APPLICANT[1], "cluster_username": "zzim2"}]})
    admin = f.AdminFactory(totp=True)
    # The admin's history of an edit of her account names her.
    LogEntry.objects.log_actions(user_id=admin.pk, queryset=[applicant], action_flag=CHANGE, change_message="[]",
                                 single_object=True)
    return app, allocation, applicant, reviewer, admin


def _seeds(reference: str) -> list[str]:
    """Every URL pattern without a parameter, or whose only parameters are a reference or a site code."""
    urls = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                path = CODE_PARAMS.sub("zellik", REFERENCE_PARAMS.sub(reference, prefix + str(pattern.pattern)))
                if "<" not in path and "(" not in path and "^" not in path:
                    urls.append("/" + path)

    walk(get_resolver().url_patterns, "")
    return [u for u in urls if not u.startswith(SKIPPED_PREFIXES)] + ["/admin/"]


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    return body.decode("utf-8", errors="replace")


LINK = re.compile(r"""(?:href|src)=["']([^"'#]+)""")
API_LINK = re.compile(r'"((?:http://testserver)?/api/v1/[^"\s]+)"')


def _links(text: str, content_type: str) -> list[str]:
    found = LINK.findall(text) if content_type.startswith("text/html") else API_LINK.findall(text)
    links = []
    for link in found:
        link = link.replace("&amp;", "&").removeprefix("http://testserver")
        if not link.startswith("/") or link.startswith(SKIPPED_PREFIXES):
            continue
        # Query strings only matter for the API's pages; on HTML pages they are filters and languages.
        links.append(link if link.startswith("/api/") else link.split("?")[0])
    return links


def _crawl(client, seeds: list[str], limit: int = 1500, follow: bool = True) -> dict[str, tuple[str, str]]:
    """GET every seed and (`follow`) every same-site link found, once. {url: (content type, text)} of the
    200s."""
    seen: set[str] = set()
    queue = deque(seeds)
    pages = {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302) and response.url.startswith("/"):
            queue.append(response.url)
            continue
        if response.status_code != 200:
            continue
        content_type = response.get("Content-Type", "")
        text = _text(response)
        pages[url] = (content_type, text)
        if follow:
            queue.extend(_links(text, content_type))
    assert len(seen) < limit, "the walk did not finish: raise the limit"
    return pages


def _naming(pages: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    return {url: hits for url, (_, text) in pages.items()
            if (hits := [n for n in NEEDLES if n in text.lower()])}


def test_nothing_staff_can_open_or_produce_names_an_erased_person(client, erased_record, run_on_commit):
    app, allocation, applicant, reviewer, admin = erased_record
    client.force_login(admin)
    # They were there: the pages this test walks show them before the erasure.
    before = _crawl(client, [f"/staff/allocations/{allocation.reference}/", "/staff/change-requests/",
                             f"/staff/applications/{app.reference}/decision/", "/staff/provisioning/sites/zellik/",
                             f"/api/v1/staff/allocations/{allocation.reference}/",
                             f"/admin/accounts/user/{applicant.pk}/history/"], follow=False)
    assert {hit for hits in _naming(before).values() for hit in hits} >= {"zorazim", "zzim2", "zimmerwald",
                                                                          "quibbleworth"}
    assert "zimmerwald" in before[f"/admin/accounts/user/{applicant.pk}/history/"][1].lower()

    user_erase(actor=applicant, user=applicant)
    user_erase(actor=admin, user=reviewer)
    with run_on_commit():
        dossier = report_services.report_request_dossier(actor=admin, application=app,
                                                         audience=ReportAudience.STAFF, language="en")
        period = report_services.report_request_period(actor=admin, date_from=timezone.localdate(),
                                                       date_to=timezone.localdate(), language="en")
    client.force_login(admin)

    pages = _crawl(client, _seeds(app.reference))

    kinds = {content_type.split(";")[0] for content_type, _ in pages.values()}
    assert {"text/html", "application/json", "application/pdf", "text/csv"} <= kinds, kinds
    for must in (f"/staff/allocations/{allocation.reference}/", f"/staff/reports/{dossier.pk}/download/",
                 f"/staff/reports/{period.pk}/csv/", "/api/v1/staff/audit-events/", "/admin/accounts/user/"):
        assert must in pages, must
    assert len(pages) > 100
    assert _naming(pages) == {}
