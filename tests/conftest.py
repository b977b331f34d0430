"""Shared fixtures.

Tests that need a real service (PostgreSQL, Redis, chromium, Slurm) call `require_service`: on a
developer laptop a missing service skips the test with a loud reason; in CI
(AIF_REQUIRE_SERVICES=1) it fails, so a green CI run means every integration test really ran."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import threading
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import ldap3
import pytest
from django.core.cache import cache
from django.db import connection

import portal.settings as portal_settings  # the module itself (re-executed by oidc_providers)
from tests import factories
from tests.factories import sessions

# force_login records the second factor of a person who has one, as allauth's sign-in does.
sessions.install()

REQUIRE_SERVICES = os.environ.get("AIF_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "i18n_catalogue: checks the committed translation catalogues (locale/*/django.po)"
    )


# Fixtures that imply a marker, so `-m postgres`, `-m redis` and `-m browser` select every such test.
FIXTURE_MARKERS = {
    "postgres": "postgres",
    "postgres_transactional": "postgres",
    "redis_server": "redis",
    "page": "browser",
    "browser": "browser",
    "openid_provider": "oidc",
    "openid_provider_server": "oidc",
    "ldap_directory": "ldap",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


def require_service(name: str, reason: str) -> None:
    """Stop the test because `name` is unavailable: fail in CI, skip elsewhere (loudly)."""
    message = f"SERVICE MISSING: {name}: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (AIF_REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{message} (set AIF_REQUIRE_SERVICES=1 to make this a failure)")


# --- database -------------------------------------------------------------------------------------


@pytest.fixture
def postgres(db):
    """The test database, which must be PostgreSQL (DATABASE_URL=postgres://...)."""
    if connection.vendor != "postgresql":
        require_service("postgresql", f"DATABASE_URL selects {connection.vendor}; this test needs PostgreSQL")
    return connection


@pytest.fixture
def postgres_transactional(transactional_db):
    """Like `postgres`, for tests that commit (several connections, concurrency)."""
    if connection.vendor != "postgresql":
        require_service("postgresql", f"DATABASE_URL selects {connection.vendor}; this test needs PostgreSQL")
    return connection


# --- redis ----------------------------------------------------------------------------------------


def redis_url() -> str:
    """REDIS_URL, else CELERY_BROKER_URL when it is Redis, else the local default."""
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        value = os.environ.get(name, "")
        if value.startswith(("redis://", "rediss://")):
            return value
    return "redis://127.0.0.1:6379/0"


def _redis_ping(url: str, timeout: float = 1.0) -> str | None:
    """Return None when Redis answers PING, else why not."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc})"
    if not reply.startswith((b"+PONG", b"-NOAUTH")):
        return f"{host}:{port} answered {reply!r} to PING"
    return None


@pytest.fixture
def redis_server() -> str:
    """The URL of a Redis server that answers PING."""
    url = redis_url()
    problem = _redis_ping(url)
    if problem:
        require_service("redis", problem)
    return url


# --- an LDAP directory ----------------------------------------------------------------------------


def _ldap_env() -> dict[str, str]:
    """The AIF_DIRECTORY_* variables: from the environment, else from scripts/ldap-stack.sh's env file."""
    path = Path(os.environ.get("AIF_LDAP_DIR", "/tmp/aif-ldap")) / "env.sh"
    env: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("export ") and "=" in line:
                key, _, value = line[len("export "):].partition("=")
                env[key.strip()] = value.strip()
    env.update({k: v for k, v in os.environ.items() if k.startswith("AIF_DIRECTORY_")})
    return env


@pytest.fixture
def ldap_directory(settings):
    """A real slapd (scripts/ldap-stack.sh start) with two organisational units of this test's own under
    its people and groups, set as the AIF_DIRECTORY_* settings (creation allowed); removed afterwards."""
    env = _ldap_env()
    if not env.get("AIF_DIRECTORY_URL"):
        require_service("ldap", "no AIF_DIRECTORY_URL and no /tmp/aif-ldap/env.sh; start it with: "
                                "bash scripts/ldap-stack.sh start")
    try:
        conn = ldap3.Connection(ldap3.Server(env["AIF_DIRECTORY_URL"], connect_timeout=3),
                                user=env["AIF_DIRECTORY_BIND_DN"], password=env["AIF_DIRECTORY_BIND_PASSWORD"],
                                auto_bind=ldap3.AUTO_BIND_NO_TLS, raise_exceptions=True, receive_timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        require_service("ldap", f"slapd at {env['AIF_DIRECTORY_URL']} does not answer a bind ({exc}); "
                                "start it with: bash scripts/ldap-stack.sh start")
    unit = f"t{uuid.uuid4().hex[:10]}"
    users_dn, groups_dn = (f"ou={unit},{env[name]}" for name in ("AIF_DIRECTORY_USERS_DN", "AIF_DIRECTORY_GROUPS_DN"))
    for dn in (users_dn, groups_dn):
        conn.add(dn, attributes={"objectClass": ["organizationalUnit"], "ou": unit})
    settings.AIF_DIRECTORY_URL = env["AIF_DIRECTORY_URL"]
    settings.AIF_DIRECTORY_BIND_DN = env["AIF_DIRECTORY_BIND_DN"]
    settings.AIF_DIRECTORY_BIND_PASSWORD = env["AIF_DIRECTORY_BIND_PASSWORD"]
    settings.AIF_DIRECTORY_USERS_DN = users_dn
    settings.AIF_DIRECTORY_GROUPS_DN = groups_dn
    settings.AIF_DIRECTORY_CREATE_ACCOUNTS = True
    settings.AIF_DIRECTORY_LOCK_POLICY = "nologin"
    try:
        yield conn
    finally:
        for dn in (users_dn, groups_dn):
            conn.search(dn, "(objectClass=*)", search_scope=ldap3.LEVEL, attributes=[])
            for entry in list(conn.entries):
                conn.delete(entry.entry_dn)
            conn.delete(dn)
        conn.unbind()


# --- settings and an OpenID Connect issuer -------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings_from_env(monkeypatch):
    """settings_from_env(NAME=value, ...) -> portal/settings.py executed afresh with those environment
    variables (restored after the test), as a dict; the loaded settings stay as they are."""

    def execute(**env) -> dict:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        path = REPO / "portal" / "settings.py"
        namespace = {"__name__": "portal.settings_probe", "__package__": "portal", "__file__": str(path)}
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 (the project's own file)
        return namespace

    return execute


class _IssuerHandler(BaseHTTPRequestHandler):
    """A fake OIDC issuer: its discovery document, and a sign-in page at its authorization endpoint
    (or, with `server.next_hop` set, a redirect there, as an issuer that sends people on to their
    home organisation does). Counts the requests."""

    def do_GET(self):  # noqa: N802 (http.server API)
        self.server.hits.append(self.path)
        issuer = f"http://127.0.0.1:{self.server.server_port}/realms/aif"
        path = self.path.partition("?")[0]
        if path == "/realms/aif/.well-known/openid-configuration":
            self._answer(200, "application/json", json.dumps({
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
                "token_endpoint": f"{issuer}/protocol/openid-connect/token",
                "userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
                "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
                "response_types_supported": ["code"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            }))
        elif path == "/realms/aif/protocol/openid-connect/auth" and self.server.next_hop:
            self.send_response(302)
            self.send_header("Location", self.server.next_hop)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path in ("/realms/aif/protocol/openid-connect/auth", "/sign-in"):
            self._answer(200, "text/html", "<!DOCTYPE html><html lang='en'><head><title>Issuer sign-in</title>"
                                           "</head><body><main><h1>Issuer sign-in</h1></main></body></html>")
        else:
            self.send_error(404)

    def _answer(self, status: int, content_type: str, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def local_oidc_issuer(next_hop: str = ""):
    """(server, issuer URL) of a fake issuer on 127.0.0.1, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IssuerHandler)
    server.hits = []
    server.next_hop = next_hop
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_port}/realms/aif"
    finally:
        server.shutdown()
        server.server_close()

# --- single sign-on -------------------------------------------------------------------------------


def oidc_providers(monkeypatch, server_url: str, *, provider_id: str = "myaccessid", client_id: str = "aif-portal",
                   secret: str = "s3cret", acr_values: str = "") -> dict:
    """SOCIALACCOUNT_PROVIDERS as portal/settings.py builds it from the OIDC_* variables.

    The settings module is re-executed with the variables set (then restored), and the result is
    what tests install with override_settings or the `settings` fixture."""
    with monkeypatch.context() as patch:
        patch.setenv("OIDC_CLIENT_ID", client_id)
        patch.setenv("OIDC_CLIENT_SECRET", secret)
        patch.setenv("OIDC_SERVER_URL", server_url)
        patch.setenv("OIDC_PROVIDER_ID", provider_id)
        patch.setenv("OIDC_NAME", "MyAccessID")
        patch.setenv("OIDC_ACR_VALUES", acr_values)
        try:
            providers = importlib.reload(portal_settings).SOCIALACCOUNT_PROVIDERS
        finally:
            patch.undo()
            importlib.reload(portal_settings)
    return providers


# --- people and organisations --------------------------------------------------------------------


@pytest.fixture
def password() -> str:
    return factories.DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return factories.UserFactory()


@pytest.fixture
def organisation(db):
    return factories.OrganisationFactory()


@pytest.fixture
def owner(db, organisation):
    return factories.OwnerMembershipFactory(organisation=organisation).user


@pytest.fixture
def member(db, organisation):
    return factories.MembershipFactory(organisation=organisation).user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def other_org_user(db):
    """A member of a second organisation: must never see the first one's applications."""
    return factories.MembershipFactory().user


@pytest.fixture
def applicant(db):
    return factories.applicant()


@pytest.fixture
def outsider(db):
    """A member of another organisation: must never see the applicant's objects."""
    return factories.applicant()


@pytest.fixture
def boss(db):
    return factories.manager()


@pytest.fixture
def valid_be_number() -> str:
    """A fresh, valid Belgian enterprise number (10 digits, compact)."""
    return factories.next_belgian_number()


# --- applications and the provisioning boundary ---------------------------------------------------


@pytest.fixture
def capacity(db):
    return factories.publish_capacity()


@pytest.fixture
def app_draft(db, member, organisation):
    return factories.draft(member, organisation)


@pytest.fixture
def app_complete(db, member, organisation, capacity):
    return factories.complete(member, organisation)


@pytest.fixture
def queued(monkeypatch):
    """The Celery boundary: what provisioning would have been asked to do, in order (allocation ids)."""
    calls = []
    monkeypatch.setattr("allocations.provisioning.tasks.provision_allocation.delay",
                        lambda allocation_id, *args, **kwargs: calls.append(allocation_id))
    return calls


# --- test isolation -------------------------------------------------------------------------------


@pytest.fixture
def fresh_totp_codes():
    """allauth remembers each used TOTP code per user id, in the cache, so that a code works once; user
    ids repeat between tests (rolled-back sequences): a test that signs in with a code starts and ends
    with none remembered."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def private_media(tmp_path, settings):
    """Attachments and reports of each test in their own folder."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    yield settings.PRIVATE_MEDIA_ROOT
    shutil.rmtree(settings.PRIVATE_MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (e-mails through eager Celery) scheduled inside the block.

    With the `db` fixture every test runs in a transaction that never commits, so callbacks
    only fire through this capture."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in English: a page rendered in nl or fr must not leak its language."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _reference_data_after_a_flush(request):
    """A test on the ordinary `db` fixture that runs after a transactional one (a browser test's live
    server flushes every table, data-migration rows included) finds the sites and access modes again."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = "db" in request.fixturenames or marker is not None
    transactional = ("transactional_db" in request.fixturenames or "live_server" in request.fixturenames
                     or (marker is not None and marker.kwargs.get("transaction")))
    if not uses_db or transactional:
        return
    request.getfixturevalue("db")
    from tests.factories import ensure_reference_data

    ensure_reference_data()
