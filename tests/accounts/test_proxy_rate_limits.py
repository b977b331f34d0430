"""Behind the reverse proxy, sign-in limits, API token failures and the audit trail see each client.

Every request of the Django test client comes from REMOTE_ADDR 127.0.0.1: the proxy of docs/deploy.md,
which appends the client's address to X-Forwarded-For. The client-address settings are those
portal/settings.py derives from AIF_TRUSTED_PROXY_COUNT and AIF_CLIENT_IP_HEADER."""

import runpy

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from portal.audit_actions import AuditAction
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

ALICE, BOB = "198.51.100.10", "203.0.113.20"  # two clients behind the proxy
LOGIN_FAILURES_PER_IP = 10  # allauth's default "login_failed" limit: 10 a minute per address
TOKEN_FAILURE_LIMIT = 20  # AIF_API_TOKEN_FAILURE_LIMIT's default


@pytest.fixture(autouse=True)
def _limits_on(settings):
    """The test settings switch allauth's limits off (AIF_DISABLE_RATE_LIMITS); the counts live in the cache."""
    del settings.ACCOUNT_RATE_LIMITS
    settings.AIF_API_TOKEN_FAILURE_LIMIT = TOKEN_FAILURE_LIMIT
    cache.clear()
    yield
    cache.clear()


def configure_from_environment(monkeypatch, settings, **environment):
    """Apply the client-address settings that portal/settings.py derives from this environment."""
    for name in ("AIF_TRUSTED_PROXY_COUNT", "AIF_CLIENT_IP_HEADER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    derived = runpy.run_module("portal.settings")
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = derived["ALLAUTH_TRUSTED_PROXY_COUNT"]
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = derived["ALLAUTH_TRUSTED_CLIENT_IP_HEADER"]


@pytest.fixture
def behind_proxy(monkeypatch, settings):
    configure_from_environment(monkeypatch, settings, AIF_TRUSTED_PROXY_COUNT="1")


@pytest.fixture
def direct(monkeypatch, settings):
    configure_from_environment(monkeypatch, settings)


def through_proxy(client_address: str, forged: str = "") -> dict:
    """The headers the proxy passes on: what the client sent, then the client's own address."""
    return {"HTTP_X_FORWARDED_FOR": f"{forged}, {client_address}" if forged else client_address}


def sign_in(email: str, password: str, **headers) -> bool:
    client = Client(**headers)
    client.post(reverse("account_login"), {"login": email, "password": password})
    return "_auth_user_id" in client.session


def fail_sign_ins(**headers) -> None:
    for n in range(LOGIN_FAILURES_PER_IP):  # a different unknown address each time: only the per-IP limit counts
        assert not sign_in(f"nobody{n}@example.eu", "wrong-password-123", **headers)


def get_me(secret: str, **headers):
    return APIClient(**headers).get("/api/v1/me/", **f.auth(secret))


def test_failed_sign_ins_of_one_client_do_not_block_another_behind_the_proxy(behind_proxy, password):
    alice, bob = f.applicant(), f.applicant()
    fail_sign_ins(**through_proxy(ALICE))
    assert not sign_in(alice.email, password, **through_proxy(ALICE))  # the limits are on, for Alice
    assert sign_in(bob.email, password, **through_proxy(BOB))


def test_a_direct_connection_is_counted_by_its_address_whatever_it_forwards(direct, password):
    """Without a trusted proxy, X-Forwarded-For is the client's own text: changing it changes nothing."""
    alice, bob = f.applicant(), f.applicant()
    for n in range(LOGIN_FAILURES_PER_IP):
        assert not sign_in(f"nobody{n}@example.eu", "wrong-password-123",
                           REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert not sign_in(alice.email, password, REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert sign_in(bob.email, password, REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR=ALICE)

    valid = f.token(bob)
    for n in range(TOKEN_FAILURE_LIMIT):
        assert get_me("aif_0badf00d_guess", REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 401
    assert get_me("aif_0badf00d_guess", REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    assert get_me(valid, REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 200

    client = Client(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR="192.0.2.1")
    client.force_login(alice)
    client.post("/me/tokens/", {"name": "Laptop script", "access": "read", "expires": "30"})
    event = AuditEvent.objects.get(action=AuditAction.API_TOKEN_CREATED, actor=alice)
    assert event.context.ip_address == ALICE


def test_bad_tokens_of_one_client_do_not_refuse_valid_tokens_behind_the_proxy(behind_proxy):
    user = f.applicant()
    valid = f.token(user)
    for n in range(TOKEN_FAILURE_LIMIT):  # a guesser trying tokens that do not exist, and one malformed header
        secret = f"aif_{n:08x}_guess" if n else "not-a-token"
        assert get_me(secret, **through_proxy(ALICE)).status_code == 401
    blocked = get_me("aif_0badf00d_guess", **through_proxy(ALICE))
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 300
    # A valid token works from the blocked client and from anyone else.
    assert get_me(valid, **through_proxy(ALICE)).status_code == 200
    assert get_me(valid, **through_proxy(BOB)).status_code == 200
    assert get_me(valid, **through_proxy(BOB, forged=ALICE)).status_code == 200


def test_guessing_one_tokens_secret_stops_the_guesser_not_the_owner(behind_proxy):
    user = f.applicant()
    valid = f.token(user)
    prefix = ApiToken.objects.get(user=user).prefix
    for n in range(TOKEN_FAILURE_LIMIT):
        assert get_me(f"aif_{prefix}_guess{n}", **through_proxy(ALICE)).status_code == 401
    # Past the limit the guesser gets 429 for this prefix without a look-up, so a right guess is refused too.
    assert get_me(f"aif_{prefix}_guess-again", **through_proxy(ALICE)).status_code == 429
    assert get_me(valid, **through_proxy(ALICE)).status_code == 429
    assert get_me(valid, **through_proxy(BOB)).status_code == 200


def test_the_audit_trail_records_the_client_behind_the_proxy(behind_proxy):
    user = f.applicant()
    client = Client(**through_proxy(ALICE, forged="192.0.2.1"))
    client.force_login(user)
    response = client.post("/me/tokens/", {"name": "Laptop script", "access": "read", "expires": "30"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.API_TOKEN_CREATED, actor=user)
    assert event.context.ip_address == ALICE


def test_a_proxy_header_names_the_client_when_configured(monkeypatch, settings):
    configure_from_environment(monkeypatch, settings, AIF_CLIENT_IP_HEADER="X-Real-IP", AIF_TRUSTED_PROXY_COUNT="1")
    user = f.applicant()
    client = Client(HTTP_X_REAL_IP=BOB, HTTP_X_FORWARDED_FOR=ALICE)  # the header wins over X-Forwarded-For
    client.force_login(user)
    client.post("/me/tokens/", {"name": "Laptop script", "access": "read", "expires": "30"})
    event = AuditEvent.objects.get(action=AuditAction.API_TOKEN_CREATED, actor=user)
    assert event.context.ip_address == BOB
