"""allauth's mails name the site: the adapter that sends them through Celery keeps allauth's context."""

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_portal_host")]

PASSWORD = "Fresh-signup-pass-2026"


@pytest.fixture
def _portal_host():
    with override_settings(ALLOWED_HOSTS=["portal.example.eu"]):
        yield


def test_verification_mail_names_the_site(client, run_on_commit):
    with run_on_commit():
        response = client.post(reverse("account_signup"), {"full_name": "Site Name", "email": "site.name@example.eu",
                                                           "password1": PASSWORD, "password2": PASSWORD},
                               HTTP_HOST="portal.example.eu")
    assert response.status_code == 302
    body = mail.outbox[0].body
    assert "Hello from portal.example.eu!" in body, body
    assert "register an account on portal.example.eu." in body, body
    assert "Thank you for using portal.example.eu!" in body, body


def test_password_reset_mail_names_the_site(client, user, run_on_commit):
    with run_on_commit():
        client.post(reverse("account_reset_password"), {"email": user.email}, HTTP_HOST="portal.example.eu")
    body = mail.outbox[0].body
    assert "Hello from portal.example.eu!" in body, body
