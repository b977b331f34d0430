"""Sign-up with mandatory e-mail verification, password reset, and OIDC single sign-on."""

import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.models import User

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


class _DiscoveryHandler(BaseHTTPRequestHandler):
    """Serves /.well-known/openid-configuration for a fake issuer; counts the requests."""

    hits: list[str]

    def do_GET(self):  # noqa: N802 (http.server API)
        self.server.hits.append(self.path)
        if self.path != "/realms/aif/.well-known/openid-configuration":
            self.send_error(404)
            return
        issuer = f"http://127.0.0.1:{self.server.server_port}/realms/aif"
        body = json.dumps({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
            "token_endpoint": f"{issuer}/protocol/openid-connect/token",
            "userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
            "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def local_oidc_issuer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DiscoveryHandler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_port}/realms/aif"
    finally:
        server.shutdown()
        server.server_close()


def oidc_providers(monkeypatch, server_url, provider_id="myaccessid"):
    """SOCIALACCOUNT_PROVIDERS as portal/settings.py builds it from the OIDC_* variables.

    The settings module is re-executed with the variables set (then restored), and the result is
    what tests install with override_settings."""
    import importlib

    import portal.settings as portal_settings

    with monkeypatch.context() as patch:
        patch.setenv("OIDC_CLIENT_ID", "aif-portal")
        patch.setenv("OIDC_CLIENT_SECRET", "s3cret")
        patch.setenv("OIDC_SERVER_URL", server_url)
        patch.setenv("OIDC_PROVIDER_ID", provider_id)
        patch.setenv("OIDC_NAME", "MyAccessID")
        try:
            providers = importlib.reload(portal_settings).SOCIALACCOUNT_PROVIDERS
        finally:
            patch.undo()
            importlib.reload(portal_settings)
    return providers


def test_settings_build_the_provider_from_oidc_environment(monkeypatch):
    import portal.settings as portal_settings

    providers = oidc_providers(monkeypatch, "https://proxy.myaccessid.example/")
    app = providers["openid_connect"]["APPS"][0]
    assert app == {"provider_id": "myaccessid", "name": "MyAccessID", "client_id": "aif-portal",
                   "secret": "s3cret", "settings": {"server_url": "https://proxy.myaccessid.example/"}}
    assert providers["openid_connect"]["OAUTH_PKCE_ENABLED"] is True
    assert portal_settings.SOCIALACCOUNT_PROVIDERS == {}  # restored: no OIDC in the test environment


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
