"""Error pages: the portal's layout, what happened and what to do, in the reader's language; the API answers
errors in its JSON shape; the 400 and 500 pages render without the database or the request's context."""

import json

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path

from portal import urls as portal_urls

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("an unexpected failure")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("a malformed request")


urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("suspicious/", suspicious),
    path("api/v1/boom/", boom),
] + portal_urls.urlpatterns
handler400 = portal_urls.handler400
handler403 = portal_urls.handler403
handler404 = portal_urls.handler404
handler500 = portal_urls.handler500


def page(response) -> str:
    return response.content.decode()


def test_page_not_found_uses_the_layout_and_says_what_to_do(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    text = page(response)
    assert "<title>Page not found · AI Factory portal</title>" in text
    assert 'class="site-footer"' in text and "favicon.svg" in text
    assert "If you typed the address, check it." in text
    assert "Error code: 404" in text


def test_page_not_found_in_the_readers_language(client):
    client.cookies["django_language"] = "nl"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'lang="nl"' in page(response) and "Pagina niet gevonden" in page(response)


@override_settings(ROOT_URLCONF=__name__)
def test_server_error_page_needs_no_database(client):
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/boom/")
    assert response.status_code == 500
    text = page(response)
    assert "Something went wrong on our side" in text
    assert "may not have been saved" in text
    assert "an unexpected failure" not in text  # the cause goes to the log, never to the page
    assert 'class="site-footer"' in text
    assert not [q for q in queries.captured_queries if "session" not in q["sql"].lower()]


@override_settings(ROOT_URLCONF=__name__)
def test_forbidden_and_bad_request_pages(client):
    forbidden_page = client.get("/forbidden/")
    assert forbidden_page.status_code == 403
    assert "You cannot open this page" in page(forbidden_page)
    bad = Client(raise_request_exception=False).get("/suspicious/")
    assert bad.status_code == 400
    assert "The request could not be read" in page(bad) and "Nothing was changed." in page(bad)


@override_settings(ROOT_URLCONF=__name__)
def test_api_errors_keep_the_api_shape(client):
    missing = client.get("/api/v1/no-such-endpoint/")
    assert missing.status_code == 404
    assert json.loads(missing.content) == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    failed = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert failed.status_code == 500
    assert json.loads(failed.content)["error"]["code"] == "server_error"


def test_a_refused_form_says_how_to_send_it_again(member_client):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = member_client.cookies
    response = csrf_client.post("/me/", {"delivery": "digest"})
    assert response.status_code == 403
    text = page(response)
    assert "The form could not be sent" in text and "Nothing was saved." in text
