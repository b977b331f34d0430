"""Staff pages require a second factor; applicants get no staff access at all."""


import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.roles import staff_mfa_missing
from tests.factories import STAFF_FACTORIES, UserFactory, sign_in_without_second_factor, totp_code

pytestmark = pytest.mark.django_db

STAFF_URLS = ["/staff/", "/admin/"]
MFA_URL = reverse("mfa_index")


@pytest.mark.parametrize("kind", sorted(STAFF_FACTORIES))
@pytest.mark.parametrize("url", STAFF_URLS)
def test_staff_without_authenticator_is_sent_to_the_mfa_page(client, kind, url):
    staff = STAFF_FACTORIES[kind](totp=False)
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
    client.force_login(STAFF_FACTORIES["reviewer"](totp=False))
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
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if totp_code() != "000000"
                                                      else "111111"})
    assert wrong.status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
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
    client.force_login(STAFF_FACTORIES["reviewer"](totp=False))
    assert client.get("/staff/").status_code == 200


def test_a_sign_in_that_skipped_the_second_factor_confirms_it_before_staff_work(client):
    cache.clear()  # allauth remembers used TOTP codes per authenticator id, which tests reuse
    staff = STAFF_FACTORIES["allocation_manager"]()  # has an authenticator
    sign_in_without_second_factor(client, staff)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Your staff roles are active only after a second factor in this sign-in." in dashboard
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    assert client.get("/api/v1/staff/applications/").json()["error"]["code"] == "mfa_required"
    assert client.get(response.url).status_code == 200
    confirmed = client.post(response.url, {"code": totp_code()})
    assert confirmed.status_code == 302
    assert client.get("/staff/").status_code == 200
    assert "Your staff roles are active only" not in client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db(transaction=True)  # allauth announces the new authenticator after its commit, in the request
def test_enrolling_an_authenticator_counts_as_passing_it(client, password):
    staff = STAFF_FACTORIES["ethics_officer"](totp=False)
    client.force_login(staff)
    assert client.get("/staff/").url == MFA_URL
    assert client.post(reverse("account_reauthenticate"), {"password": password}).status_code == 302
    form = client.get(reverse("mfa_activate_totp")).context["form"]
    code = totp_code(form.secret)
    activated = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert activated.status_code == 302
    assert client.get("/staff/").status_code == 200
