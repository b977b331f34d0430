"""allauth's mails name the portal, not the host the request came to, and link to its base URL: the
adapter that sends them through the outbox gives them the portal's name and moves their links."""

import re

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_portal_host")]

PASSWORD = "Fresh-signup-pass-2026"
BASE_URL = "https://portal.example.eu"


@pytest.fixture
def _portal_host():
    # The request reaches the portal on an internal host and port; mails must still say the public ones.
    with override_settings(ALLOWED_HOSTS=["127.0.0.1"], PORTAL_BASE_URL=BASE_URL, AIF_PORTAL_NAME="BE AI Factory"):
        yield


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text)


def test_verification_mail_names_the_portal_and_links_to_its_base_url(client, run_on_commit):
    with run_on_commit():
        response = client.post(reverse("account_signup"), {"full_name": "Site Name", "email": "site.name@example.eu",
                                                           "password1": PASSWORD, "password2": PASSWORD},
                               HTTP_HOST="127.0.0.1:8101")
    assert response.status_code == 302
    message = mail.outbox[0]
    assert message.subject.startswith("[BE AI Factory] ")
    assert "Hello from BE AI Factory!" in message.body, message.body
    assert "127.0.0.1" not in message.body
    assert links(message.body) and all(link.startswith(BASE_URL + "/") for link in links(message.body))
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "Hello from BE AI Factory!" in html


def test_password_reset_mail_names_the_portal(client, user, run_on_commit):
    with run_on_commit():
        client.post(reverse("account_reset_password"), {"email": user.email}, HTTP_HOST="127.0.0.1:8101")
    body = mail.outbox[0].body
    assert "Hello from BE AI Factory!" in body, body
    assert "127.0.0.1" not in body
    assert any(link.startswith(BASE_URL + "/accounts/password/reset/key/") for link in links(body))


def test_the_language_of_the_sign_up_page_becomes_the_persons_language(client, run_on_commit):
    with run_on_commit():
        client.post(reverse("account_signup"), {"full_name": "Anne Peeters", "email": "anne@example.be",
                                                "password1": PASSWORD, "password2": PASSWORD},
                    HTTP_HOST="127.0.0.1:8101", HTTP_ACCEPT_LANGUAGE="nl-BE,nl;q=0.9,en;q=0.5")
    assert User.objects.get(email="anne@example.be").language == "nl"
    assert "Hallo" in mail.outbox[0].body or "Hello" not in mail.outbox[0].body
