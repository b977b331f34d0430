"""A session cookie is what a client sends: one that holds a NUL byte, or is not a key the portal could have
made, is no session (the request goes on signed out), never an error. It answered 500 on PostgreSQL, which
refuses NUL in a text column (found by schemathesis through the API's cookie authentication)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests import factories as f

pytestmark = pytest.mark.django_db

HOSTILE = ["a\x00" * 16, "\x00", "x" * 31, "X" * 32, "../../etc/passwd" * 2, "abc;def" * 5, "é" * 32]


@pytest.mark.parametrize("key", HOSTILE)
def test_a_hostile_session_cookie_is_no_session(client, key):
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}"
    assert client.get("/", HTTP_COOKIE=cookie).status_code == 200
    dashboard = client.get("/dashboard/", HTTP_COOKIE=cookie)
    assert dashboard.status_code == 302 and "/accounts/login/" in dashboard["Location"]
    api = client.post("/api/v1/staff/change-requests/1/decision/", {"approve": True}, HTTP_COOKIE=cookie,
                      content_type="application/json")
    assert api.status_code in (401, 403)


def test_a_session_the_portal_made_still_signs_in(client):
    member = f.applicant()
    client.force_login(member)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert len(key) == 32
    assert client.get("/dashboard/").status_code == 200
    # The same shape, but no such session: signed out.
    client.cookies[settings.SESSION_COOKIE_NAME] = "0" * 32
    assert client.get("/dashboard/").status_code == 302
