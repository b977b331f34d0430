"""API tokens: hashed at rest, shown once, scopes, revocation, last use, failure rate limit, MFA."""

import datetime
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_secret_is_stored_only_as_its_sha256(applicant):
    token, secret = api_token_create(actor=applicant, name="ci", scopes=["read"])
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(f"aif_{token.prefix}_")
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()]
    assert not any(secret in value for value in stored)


def test_creation_and_revocation_are_audited(applicant):
    token, secret = api_token_create(actor=applicant, name="ci", scopes=["read", "write"])
    api_token_revoke(actor=applicant, token=token)
    events = list(AuditEvent.objects.filter(object_type="accounts.apitoken", object_id=str(token.pk)))
    assert [e.action for e in events] == ["api_token.created", "api_token.revoked"]
    assert all(secret not in str(e.changes) for e in events)


def test_write_scope_implies_read_and_unknown_scopes_are_refused(applicant):
    token, _ = api_token_create(actor=applicant, name="w", scopes=["write"])
    assert token.scopes == ["read", "write"]
    with pytest.raises(Exception, match="read"):
        api_token_create(actor=applicant, name="x", scopes=["admin"])


def test_token_authenticates_and_records_last_use_at_most_once_a_minute(applicant):
    token, secret = api_token_create(actor=applicant, name="ci", scopes=["read"])
    client = APIClient()
    client.credentials(**f.auth(secret))
    assert client.get("/api/v1/me/").json()["email"] == applicant.email
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at == first  # within a minute: no write
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - datetime.timedelta(minutes=2))
    client.get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at > first - datetime.timedelta(minutes=1)


def test_revoked_and_expired_tokens_are_refused(applicant):
    token, secret = api_token_create(actor=applicant, name="ci", scopes=["read"])
    api_token_revoke(actor=applicant, token=token)
    response = APIClient().get("/api/v1/me/", **f.auth(secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Token")
    token2, secret2 = api_token_create(actor=applicant, name="old", scopes=["read"])
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert APIClient().get("/api/v1/me/", **f.auth(secret2)).status_code == 401


def test_inactive_users_tokens_are_refused(applicant):
    secret = f.token(applicant)
    applicant.is_active = False
    applicant.save(update_fields=["is_active"])
    assert APIClient().get("/api/v1/me/", **f.auth(secret)).status_code == 401


def test_read_scope_token_cannot_write(as_user, applicant):
    client = as_user(applicant, scopes=["read"])
    assert client.get("/api/v1/organisations/").status_code == 200
    org_id = client.get("/api/v1/organisations/").json()["results"][0]["id"]
    response = client.post("/api/v1/applications/", {"organisation": org_id, "title": "X"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_no_credentials_is_401_in_the_error_shape(api):
    response = api.get("/api/v1/applications/")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "not_authenticated", "message": response.json()["error"]["message"],
                                         "fields": {}}}


def test_session_authentication_works_for_the_browser(client, applicant):
    client.force_login(applicant)
    assert client.get("/api/v1/me/").json()["token_scopes"] is None


def test_failed_token_authentications_are_rate_limited_per_address(settings, applicant):
    settings.AIF_API_TOKEN_FAILURE_LIMIT = 3
    settings.AIF_API_TOKEN_FAILURE_WINDOW = 300
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token aif_deadbeef_guess").status_code == 401
    blocked = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token aif_deadbeef_guess")
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "throttled"
    assert 0 < int(blocked["Retry-After"]) <= 300
    # Another bad token waits too; a valid one does not (see tests/accounts/test_proxy_rate_limits.py).
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token aif_0badf00d_guess").status_code == 429
    assert client.get("/api/v1/me/", **f.auth(f.token(applicant))).status_code == 200
    # Another address is not affected.
    assert APIClient(REMOTE_ADDR="203.0.113.8").get("/api/v1/me/", **f.auth(f.token(applicant))).status_code == 200


def test_malformed_headers_count_as_failures(api):
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION="Token").status_code == 401
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION="Token a b").status_code == 401


def test_staff_token_needs_an_authenticator_everywhere():
    officer = f.EthicsOfficerFactory(totp=False)  # no TOTP
    client = APIClient()
    client.credentials(**f.auth(f.token(officer)))
    for path in ("/api/v1/applications/", "/api/v1/staff/audit-events/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "mfa_required"
    f.activate_totp(officer)
    assert client.get("/api/v1/staff/audit-events/").status_code == 200


# --------------------------------------------------------------------------------- the HTML page

def test_page_shows_the_secret_once_and_lists_tokens_without_it(client, applicant):
    client.force_login(applicant)
    response = client.post("/me/tokens/", {"name": "Laptop script", "access": "read_write", "expires": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=applicant)
    secret = response.context["created"]["secret"]
    assert secret in response.content.decode()
    assert token.scopes == ["read", "write"] and token.expires_at is not None
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    again = client.get("/me/tokens/")
    assert "Laptop script" in again.content.decode() and secret not in again.content.decode()


def test_page_revokes_own_tokens_only(client, applicant, outsider):
    mine, _ = api_token_create(actor=applicant, name="mine", scopes=["read"])
    theirs, _ = api_token_create(actor=outsider, name="theirs", scopes=["read"])
    client.force_login(applicant)
    assert client.post(f"/me/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/me/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_page_reports_validation_errors(client, applicant):
    client.force_login(applicant)
    response = client.post("/me/tokens/", {"name": "", "access": "read"})
    assert response.status_code == 200 and not ApiToken.objects.exists()


def test_privacy_page_links_to_tokens(client, applicant):
    client.force_login(applicant)
    assert "/me/tokens/" in client.get("/me/privacy/").content.decode()


def test_tokens_are_exported_and_deleted_on_erasure(applicant):
    from accounts.privacy import user_erase, user_export_data

    token, secret = api_token_create(actor=applicant, name="ci", scopes=["read"])
    exported = user_export_data(user=applicant)["api_tokens"]
    assert exported[0]["prefix"] == token.prefix and secret not in str(exported)
    user_erase(actor=applicant, user=applicant)
    assert not ApiToken.objects.filter(user=applicant).exists()
    assert APIClient().get("/api/v1/me/", **f.auth(secret)).status_code == 401
