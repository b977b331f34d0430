"""Every page a person can reach by following the portal's links, for an applicant and for a member
of staff with every role, plus the pages open to anyone: each one loads under the Content-Security-
Policy and the Permissions-Policy with no violation (the browser fixture fails the test on any), axe-core
finds no violation on it at any impact, and none answers with a server error. The language switcher, a
form, still works under form-action."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.roles import Role
from allocations.applications.models import ApplicationStatus
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_violations, blocking_violations, format_violations, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Not pages: signing out, files to download, the API and the admin (tested on their own).
SKIP = re.compile(r"/accounts/logout/|/admin/|/api/|/i18n/|download|export|\.pdf$|\.csv$|/jsi18n/")
LIMIT = 120
#: Links that differ only in their query string (a list's sort headers, filters and pages) open the same view and
#: template: the tour opens two of them per path and runs axe on the first only. The lists' sorted, filtered and
#: refused states are checked by axe in their own tests (test_staff_lists, test_work_lists, test_date_entry).
VARIANTS_PER_PATH = 2


#: WCAG 1.4.10 (reflow): at 320 CSS pixels wide no page scrolls sideways. The tours run at that width.
NARROW = 320


def tour(page, live_server, start: list[str]) -> dict[str, int]:
    """Breadth first through same-origin links; the status of each page opened. Each page is opened 320 px
    wide and must not be wider than the window, and axe-core must find nothing on it (the failure lists every
    page that is too wide or has a violation, not only the first)."""
    page.set_viewport_size({"width": NARROW, "height": 800})
    origin = live_server.url
    too_wide: dict[str, int] = {}
    inaccessible: dict[str, str] = {}
    queue, seen, statuses = deque(origin + path for path in start), set(), {}
    variants: dict[str, int] = {}
    while queue and len(statuses) < LIMIT:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        path = urlsplit(url).path
        variants[path] = variants.get(path, 0) + 1
        if variants[path] > VARIANTS_PER_PATH:
            continue
        try:
            response = page.goto(url)
        except PlaywrightError as error:  # a link that turns out to be a download
            if "Download is starting" in str(error):
                continue
            raise
        key = urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
        statuses[key] = response.status
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW:
            too_wide[key] = width
        if response.ok and variants[path] == 1:
            violations = blocking_violations(axe_violations(page))
            if violations:
                inaccessible[key] = format_violations(violations)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urldefrag(urljoin(url, href)).url
            if target.startswith(origin + "/") and not SKIP.search(urlsplit(target).path) and target not in seen:
                queue.append(target)
    assert not too_wide, f"pages wider than {NARROW} px: {too_wide}"
    assert not inaccessible, "accessibility violations:\n" + "\n".join(
        f"{key}:\n{found}" for key, found in inaccessible.items())
    return statuses


def assert_no_server_error(statuses: dict[str, int], at_least: int) -> None:
    failing = {path: status for path, status in statuses.items() if status >= 500}
    assert not failing, failing
    assert len(statuses) >= at_least, sorted(statuses)


def test_applicant_pages(page, live_server):
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()
    member = f.applicant()
    organisation = f.org_of(member)
    f.application(status=ApplicationStatus.DRAFT, member=member)
    f.application(status=ApplicationStatus.SUBMITTED, member=member)
    f.allocation(member=member)
    sign_in_as(page, live_server, member)
    statuses = tour(page, live_server, ["/dashboard/", "/accounts/email/", "/accounts/password/change/",
                                        f"/organisations/{organisation.pk}/"])
    assert_no_server_error(statuses, at_least=20)


def test_staff_pages(page, live_server, monkeypatch):
    monkeypatch.setattr("allocations.provisioning.tasks.provision_allocation.delay", lambda *a, **k: None)
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.set_capacity(gpu_hours=50_000)
    boss = f.manager()
    for role in (Role.ETHICS_OFFICER, Role.REVIEWER, Role.OPERATOR):
        f.give_role(boss, role)
    f.application(status=ApplicationStatus.SUBMITTED)
    f.application(status=ApplicationStatus.IN_REVIEW)
    f.allocation()
    f.decisions(2, manager=boss)
    sign_in_as(page, live_server, boss)
    statuses = tour(page, live_server, ["/staff/", "/staff/provisioning/", "/dashboard/"])
    assert_no_server_error(statuses, at_least=20)

    # At 1280 px the menu of a person with every staff role (the longest there is) holds on one line, in
    # English and in French (the longer words), under the row of the name and the languages.
    page.set_viewport_size({"width": 1280, "height": 900})
    for language in ("en", "fr"):
        page.goto(live_server.url + "/staff/")
        page.locator(f"form.lang button[value={language}]").click()
        tops = page.eval_on_selector_all(".nav > li", "items => items.map(i => i.getBoundingClientRect().top)")
        assert len(tops) >= 8 and len({round(top) for top in tops}) == 1, (language, tops)
        brand, languages = (page.locator(selector).bounding_box() for selector in (".brand", "form.lang"))
        assert abs(brand["y"] + brand["height"] / 2 - languages["y"] - languages["height"] / 2) < 8


def test_public_pages_and_the_language_switcher(page, live_server):
    statuses = tour(page, live_server, ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
                                        "/reports/verify/"])
    assert_no_server_error(statuses, at_least=5)

    page.goto(live_server.url + "/accounts/login/")
    page.locator("form.lang button[value=fr]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.locator("form.lang button[value=nl]").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
