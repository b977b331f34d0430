"""Staff pages require a second factor; applicants get no staff access at all."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse

from accounts.mfa import staff_mfa_missing
from tests.factories import STAFF_FACTORIES, TOTP_SECRET, UserFactory

pytestmark = pytest.mark.django_db

STAFF_URLS = ["/staff/", "/admin/"]
MFA_URL = reverse("mfa_index")


def current_totp_code(secret: str = TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.parametrize("kind", sorted(STAFF_FACTORIES))
@pytest.mark.parametrize("url", STAFF_URLS)
def test_staff_without_authenticator_is_sent_to_the_mfa_page(client, kind, url):
    staff = STAFF_FACTORIES[kind]()
    assert staff_mfa_missing(staff)
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == MFA_URL
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Staff pages require multi-factor authentication" in page.content.decode()


@pytest.mark.parametrize("kind", sorted(STAFF_FACTORIES))
def test_staff_with_totp_get_in(client, kind):
    staff = STAFF_FACTORIES[kind](totp=True)
    client.force_login(staff)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "<h1>My work</h1>" in response.content.decode()
    admin = client.get("/admin/")
    if staff.is_staff:  # operators and administrators run the Django admin
        assert admin.status_code == 200
    else:  # other roles are sent to the admin's own login, not to the MFA page
        assert admin.status_code == 302
        assert admin.url.startswith(reverse("admin:login"))


def test_staff_api_prefix_answers_json_403_without_mfa(client):
    client.force_login(STAFF_FACTORIES["reviewer"]())
    response = client.get("/api/v1/staff/anything")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_real_sign_in_with_password_and_totp_code(client, password):
    staff = STAFF_FACTORIES["ethics_officer"](totp=True)
    response = client.post(reverse("account_login"), {"login": staff.email, "password": password})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    # Not signed in yet: the second factor is still owed.
    assert client.get("/staff/").status_code == 302
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if current_totp_code() != "000000"
                                                      else "111111"})
    assert wrong.status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code()})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_applicant_gets_no_staff_access(client):
    applicant = UserFactory()
    client.force_login(applicant)
    assert not staff_mfa_missing(applicant)
    assert client.get("/staff/").status_code == 403
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin.url.startswith(reverse("admin:login"))
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'href="/staff/"' not in dashboard


def test_anonymous_is_sent_to_sign_in_for_staff_pages(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_mfa_requirement_can_be_switched_off(client, settings):
    settings.AIF_REQUIRE_MFA_FOR_STAFF = False
    client.force_login(STAFF_FACTORIES["reviewer"]())
    assert client.get("/staff/").status_code == 200
