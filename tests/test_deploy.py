"""The production recipe of docs/deploy.md, in small: gunicorn with the production settings.

`scripts/deploy-check.sh` follows the whole recipe (worker, beat, SMTP, OIDC, scale-out); this test
keeps its web part under test in a few seconds: gunicorn started in a subprocess with DEBUG=0 and the
HTTPS variables, against the suite's PostgreSQL test database and Redis, answers /healthz, serves a
static file through whitenoise with a long cache lifetime, redirects plain HTTP to HTTPS and sends
HSTS and secure cookies behind the TLS proxy (X-Forwarded-Proto: https)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory, override_settings

from tests.portal.test_settings import PRODUCTION_ENV as CHECKED_PRODUCTION_ENV

REPO = Path(__file__).resolve().parents[1]
HOST = "portal.aifactory.test"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}

# The variables `check --deploy` is tested with, for this host, with Slurm changes only recorded.
PRODUCTION_ENV = {**CHECKED_PRODUCTION_ENV, "ALLOWED_HOSTS": HOST, "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
                  "PORTAL_BASE_URL": f"https://{HOST}", "AIF_SLURM_BACKEND": "record"}
# Only the portal's own static files (and allauth's, which the sign-in page loads): collecting the
# admin, DRF and Swagger bundles with compression takes some twenty seconds.
COLLECT_IGNORE = ["admin", "rest_framework", "drf_spectacular_sidecar", "django_filters"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The database the suite runs against (the test database pytest-django created)."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {key: os.environ[key] for key in keep if key in os.environ}


@pytest.fixture
def production_web(postgres, redis_server, tmp_path):
    """gunicorn with the production settings on a free loopback port; yields its base URL."""
    env = _base_env() | PRODUCTION_ENV | {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_server,
        "CACHE_URL": redis_server,
        "AIF_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    ignore = [arg for name in COLLECT_IGNORE for arg in ("--ignore", name)]
    collected = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", *ignore],
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert collected.returncode == 0, collected.stdout + collected.stderr

    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w+")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1", "--timeout", "30"],
                               cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/healthz", headers={"Host": HOST}, timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow on a busy machine
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"gunicorn did not answer on {base}:\n{log.read()[-3000:]}")
                time.sleep(0.1)
        yield base, tmp_path / "static"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def test_gunicorn_with_the_production_settings(production_web):
    base, static_root = production_web

    # The load balancer probes over plain HTTP: /healthz answers, it is not redirected.
    health = requests.get(f"{base}/healthz", headers={"Host": HOST}, timeout=10, allow_redirects=False)
    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "database": {"ok": True, "detail": "postgresql"},
                             "broker": {"ok": True, "detail": "redis"}}

    # Static files: whitenoise serves the hashed name for ever, compressed when asked.
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    static = requests.get(f"{base}/static/{hashed}", headers=HTTPS | {"Accept-Encoding": "gzip"}, timeout=10)
    assert static.status_code == 200
    assert static.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert static.headers["Content-Encoding"] == "gzip"
    assert static.headers["Content-Type"].startswith("text/css")
    assert "default-src 'self'" in static.headers["Content-Security-Policy"]  # whitenoise answers after CSP
    assert "camera=()" in static.headers["Permissions-Policy"]

    # Plain HTTP (no X-Forwarded-Proto from the proxy): redirect, no HSTS, no cookie.
    plain = requests.get(f"{base}/accounts/login/", headers={"Host": HOST}, timeout=10, allow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://{HOST}/accounts/login/"
    assert "Strict-Transport-Security" not in plain.headers
    assert "Set-Cookie" not in plain.headers

    # Behind the TLS proxy: the page, HSTS with the production values, secure cookies.
    page = requests.get(f"{base}/accounts/login/", headers=HTTPS, timeout=10, allow_redirects=False)
    assert page.status_code == 200, page.text[:2000]
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    directives = dict(part.split(" ", 1) for part in page.headers["Content-Security-Policy"].split("; "))
    assert directives == {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
                          "img-src": "'self' data:", "object-src": "'none'", "base-uri": "'self'",
                          "frame-ancestors": "'none'", "form-action": "'self'"}
    assert "geolocation=()" in page.headers["Permissions-Policy"]
    csrf_cookie = next(cookie for cookie in page.cookies if cookie.name == "csrftoken")
    assert csrf_cookie.secure


# --- settings the recipe depends on (no service needed) ------------------------------------------


def _security_response(path: str) -> int:
    middleware = SecurityMiddleware(lambda request: HttpResponse("ok"))
    return middleware(RequestFactory().get(path, HTTP_HOST=HOST)).status_code


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=[HOST])
def test_healthz_is_exempt_from_the_https_redirect():
    """A load balancer's health check over plain HTTP gets the state, not a 301 it counts as down."""
    assert _security_response("/healthz") == 200
    assert _security_response("/healthz/x") == 301
    assert _security_response("/accounts/login/") == 301


def _settings_with(monkeypatch, **env) -> dict:
    """portal/settings.py executed afresh with the given environment (the loaded settings stay)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = REPO / "portal" / "settings.py"
    namespace = {"__name__": "portal.settings_probe", "__package__": "portal", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 (the project's own file)
    return namespace


def test_cache_url_selects_redis(monkeypatch):
    """Every web process shares allauth's rate limits and the API token failure counts in Redis."""
    caches = _settings_with(monkeypatch, CACHE_URL="redis://127.0.0.1:6379/11")["CACHES"]
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert caches["default"]["LOCATION"] == "redis://127.0.0.1:6379/11"


def test_without_cache_url_each_process_has_its_own_memory_cache(monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)
    assert _settings_with(monkeypatch)["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache")


def test_cache_url_of_another_kind_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        _settings_with(monkeypatch, CACHE_URL="memcached://127.0.0.1:11211")
