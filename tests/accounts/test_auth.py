"""Sign-up with mandatory e-mail verification, password reset, and OIDC single sign-on."""

import re
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from tests.conftest import local_oidc_issuer, oidc_providers

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(?P<path>/accounts/confirm-email/[^/\s]+/)")
RESET_LINK = re.compile(r"https?://[^/\s]+(?P<path>/accounts/password/reset/key/[^/\s]+/)")
NEW_PASSWORD = "Fresh-signup-pass-2026"


def sign_up(client, run_on_commit, email="new.applicant@example.eu"):
    with run_on_commit():
        return client.post(reverse("account_signup"),
                           {"full_name": "Ines Founder", "email": email, "password1": NEW_PASSWORD,
                            "password2": NEW_PASSWORD})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_up_sends_a_verification_mail_and_blocks_login_until_verified(client, run_on_commit):
    response = sign_up(client, run_on_commit)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not signed_in(client)
    user = User.objects.get(email="new.applicant@example.eu")
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.applicant@example.eu"]
    assert message.subject.startswith("[AI Factory] ")
    confirm_path = CONFIRM_LINK.search(message.body)["path"]

    # Signing in before verification is refused: allauth re-sends the mail and shows the notice.
    with run_on_commit():
        response = client.post(reverse("account_login"),
                               {"login": "new.applicant@example.eu", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not signed_in(client)
    assert client.get(reverse("dashboard")).status_code == 302

    # The link shows a confirmation form (no state change on GET), the POST verifies.
    assert client.get(confirm_path).status_code == 200
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(confirm_path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    client.logout()
    response = client.post(reverse("account_login"), {"login": "new.applicant@example.eu", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert signed_in(client)


def test_sign_up_refuses_a_weak_password(client, run_on_commit):
    with run_on_commit():
        response = client.post(reverse("account_signup"),
                               {"full_name": "Weak Password", "email": "weak@example.eu", "password1": "password",
                                "password2": "password"})
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@example.eu").exists()
    assert mail.outbox == []


def test_sign_up_with_a_taken_address_creates_nobody(client, user, run_on_commit):
    sign_up(client, run_on_commit, email=user.email.upper())
    assert User.objects.filter(email__iexact=user.email).count() == 1


def test_password_reset_sends_a_mail_with_a_working_link(client, user, run_on_commit):
    with run_on_commit():
        response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    reset_path = RESET_LINK.search(mail.outbox[0].body)["path"]
    form_page = client.get(reset_path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_path
    with run_on_commit():
        response = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_login_page_has_no_sso_button_without_oidc_settings(client):
    page = client.get(reverse("account_login")).content.decode()
    assert "/accounts/oidc/" not in page


# --- OIDC --------------------------------------------------------------------------------------------




def test_settings_build_the_provider_from_oidc_environment(monkeypatch):
    import portal.settings as portal_settings

    providers = oidc_providers(monkeypatch, "https://proxy.myaccessid.example/")
    app = providers["openid_connect"]["APPS"][0]
    # email_authentication: a verified address at the provider signs in to the portal account with it.
    assert app == {"provider_id": "myaccessid", "name": "MyAccessID", "client_id": "aif-portal", "secret": "s3cret",
                   "settings": {"server_url": "https://proxy.myaccessid.example/", "email_authentication": True}}
    assert providers["openid_connect"]["OAUTH_PKCE_ENABLED"] is True
    assert providers["openid_connect"]["provider_class"] == "accounts.oidc.provider.PortalOIDCProvider"
    # restored: no OIDC app in the test environment, the portal's provider class all the same
    assert portal_settings.SOCIALACCOUNT_PROVIDERS == {"openid_connect": {
        "provider_class": "accounts.oidc.provider.PortalOIDCProvider", "OAUTH_PKCE_ENABLED": True, "APPS": []}}


def test_settings_ask_for_acr_values_when_told(monkeypatch):
    providers = oidc_providers(monkeypatch, "https://proxy.myaccessid.example/",
                               acr_values="https://refeds.org/profile/mfa,https://refeds.org/profile/sfa")
    assert providers["openid_connect"]["APPS"][0]["settings"]["auth_params"] == {
        "acr_values": "https://refeds.org/profile/mfa https://refeds.org/profile/sfa"}
    assert "auth_params" not in oidc_providers(monkeypatch, "https://x.example/")["openid_connect"]["APPS"][0]["settings"]


def test_oidc_login_link_is_on_the_sign_in_page(client, monkeypatch):
    with override_settings(SOCIALACCOUNT_PROVIDERS=oidc_providers(monkeypatch, "http://127.0.0.1:9/realms/aif")):
        page = client.get(reverse("account_login")).content.decode()
    assert "/accounts/oidc/myaccessid/login/" in page
    assert "MyAccessID" in page


def _assert_redirect_to_discovered_endpoint(response, issuer_url):
    assert response.status_code == 302, response.content[:500]
    location = urlparse(response.url)
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{issuer_url}/protocol/openid-connect/auth"
    query = parse_qs(location.query)
    assert query["client_id"] == ["aif-portal"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver/accounts/oidc/myaccessid/login/callback/"]
    assert "openid" in query["scope"][0].split()
    assert query["code_challenge_method"] == ["S256"]  # PKCE
    assert query["state"][0]
    assert len(query["nonce"][0]) >= 32  # sent by accounts.oidc, checked against the ID token


def test_oidc_login_redirects_to_the_discovered_authorization_endpoint(client, monkeypatch):
    """Against a real local HTTP server: allauth fetches the discovery document over the network."""
    with local_oidc_issuer() as (server, issuer_url), \
            override_settings(SOCIALACCOUNT_PROVIDERS=oidc_providers(monkeypatch, issuer_url)):
        response = client.post("/accounts/oidc/myaccessid/login/")
        _assert_redirect_to_discovered_endpoint(response, issuer_url)
        assert server.hits == ["/realms/aif/.well-known/openid-configuration"]


def test_oidc_login_with_requests_patched_at_the_boundary(client, monkeypatch):
    """The same flow with requests patched, to pin what allauth asks for: the discovery URL."""
    issuer_url = "https://proxy.myaccessid.example/realms/aif"
    document = {
        "issuer": issuer_url,
        "authorization_endpoint": f"{issuer_url}/protocol/openid-connect/auth",
        "token_endpoint": f"{issuer_url}/protocol/openid-connect/token",
        "userinfo_endpoint": f"{issuer_url}/protocol/openid-connect/userinfo",
        "jwks_uri": f"{issuer_url}/protocol/openid-connect/certs",
    }
    fake = mock.Mock(spec=requests.Response, status_code=200)
    fake.json.return_value = document
    with mock.patch.object(requests.Session, "get", return_value=fake) as get, \
            override_settings(SOCIALACCOUNT_PROVIDERS=oidc_providers(monkeypatch, issuer_url)):
        response = client.post("/accounts/oidc/myaccessid/login/")
    _assert_redirect_to_discovered_endpoint(response, issuer_url)
    assert get.call_args.args[0] == f"{issuer_url}/.well-known/openid-configuration"


def test_unknown_oidc_provider_is_404(client, monkeypatch):
    with override_settings(SOCIALACCOUNT_PROVIDERS=oidc_providers(monkeypatch, "http://127.0.0.1:9/realms/aif")):
        assert client.post("/accounts/oidc/unknown/login/").status_code == 404
