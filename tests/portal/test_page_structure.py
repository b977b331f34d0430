"""Page structure a test can read from the HTML: every page has its own title (WCAG 2.4.2), and every id a field
names in aria-describedby or aria-labelledby exists on the page (a help text or an error that is not rendered
leaves a screen reader with nothing to read)."""

import re

import pytest
from django.urls import reverse

from tests.factories import STAFF_FACTORIES, UserFactory
from tests.portal.test_i18n import _parameterless_routes

pytestmark = pytest.mark.django_db

ACCOUNT_PAGES = ["account_email", "account_change_password", "mfa_index", "account_reauthenticate"]


def title_of(response) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).split())


def test_no_two_pages_share_a_title(client):
    people = {"applicant": UserFactory(), "staff": STAFF_FACTORIES["admin"](totp=True)}
    for who, person in people.items():
        client.force_login(person)
        titles: dict[str, list[str]] = {}
        for url in _parameterless_routes() + [reverse(name) for name in ACCOUNT_PAGES]:
            response = client.get(url)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                titles.setdefault(title_of(response), []).append(url)
        shared = {title: urls for title, urls in titles.items() if len(urls) > 1}
        assert len(titles) >= 10, titles
        assert not shared, (who, shared)


def test_every_described_by_reference_exists(client, pages_with_errors):
    checked = 0
    for who, person, url, data in pages_with_errors:
        client.logout()
        if person is not None:
            client.force_login(person)
        response = client.post(url, data) if data is not None else client.get(url)
        if data is not None:
            assert response.status_code in (200, 400), (who, url, response.status_code)
        if response.status_code not in (200, 400) or not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        referenced = {ref for attr in re.findall(r'aria-(?:describedby|labelledby)="([^"]*)"', html)
                      for ref in attr.split()}
        missing = referenced - ids
        assert not missing, (who, url, missing)
        checked += bool(referenced)
    assert checked >= 10


@pytest.fixture
def pages_with_errors(db):
    """(who, user, url, POST data or None): the list pages with their filters, and forms sent empty or wrong
    so that their errors are on the page."""
    applicant = UserFactory()
    staff = STAFF_FACTORIES["admin"](totp=True)
    routes = _parameterless_routes()
    pages = [("applicant", applicant, url, None) for url in routes]
    pages += [("staff", staff, url, None) for url in routes if url.startswith("/staff/")]
    pages += [
        ("anonymous", None, reverse("account_login"), {"login": "nobody@example.eu", "password": "wrong"}),
        ("anonymous", None, reverse("account_signup"), {"email": "not-an-address"}),
        ("applicant", applicant, reverse("accounts:organisation_create"), {"legal_name": ""}),
        ("applicant", applicant, reverse("accounts:api_tokens"), {"name": ""}),
    ]
    return pages
