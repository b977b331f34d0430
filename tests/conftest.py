"""Shared fixtures.

Tests that need a real service (PostgreSQL, Redis, chromium, Slurm) call `require_service`: on a
developer laptop a missing service skips the test with a loud reason; in CI
(AIF_REQUIRE_SERVICES=1) it fails, so a green CI run means every integration test really ran."""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.db import connection

from tests import factories

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
