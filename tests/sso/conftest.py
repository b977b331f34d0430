"""The OpenID provider of the single sign-on tests (tests/oidc_op/provider.js, panva's oidc-provider).

It runs under node on a free port for the whole session; `npm ci` in tests/oidc_op installs it (.ci/run
does). Without node or its packages the tests skip loudly, or fail when AIF_REQUIRE_SERVICES=1; a
provider that is installed but does not start always fails.

`sign_in_at_provider` plays the browser: it starts the portal's sign-in with the Django test client,
follows the redirects to the provider over real HTTP with `requests`, fills its login and consent
pages, and stops at the redirect back to the portal's callback.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import oidc_providers, require_service

OP_DIR = Path(__file__).resolve().parents[1] / "oidc_op"
MIN_NODE = (20, 19)  # oidc-provider 9 (tests/oidc_op/package.json "engines")
PROVIDER_ID = "myaccessid"
CLIENT_ID = "aif-portal"
CLIENT_SECRET = "aif-portal-test-secret"
CALLBACK_URL = f"http://testserver/accounts/oidc/{PROVIDER_ID}/login/callback/"
SFA = "https://refeds.org/profile/sfa"
MFA = "https://refeds.org/profile/mfa"
OP_PASSWORD = "home-organisation-pass"
START_TIMEOUT = 20.0


@dataclass
class OpenIDProvider:
    """The running provider and its control API (see tests/oidc_op/provider.js)."""

    issuer: str
    process: subprocess.Popen

    def control(self, path: str, payload: dict | None = None) -> dict:
        if payload is None and path == "events":
            response = requests.get(f"{self.issuer}/_test/{path}", timeout=5)
        else:
            response = requests.post(f"{self.issuer}/_test/{path}", json=payload or {}, timeout=5)
        response.raise_for_status()
        return response.json()

    def add_account(self, sub: str, email: str, *, email_verified: bool = True, name: str = "Ada Peeters") -> None:
        given, _, family = name.partition(" ")
        self.control("accounts", {"sub": sub, "password": OP_PASSWORD, "email": email,
                                  "email_verified": email_verified, "name": name,
                                  "given_name": given, "family_name": family})

    def spoil_next_id_token(self, fault: str) -> None:
        self.control("id-token-fault", {"fault": fault})

    def spoil_next_userinfo(self, fault: str) -> None:
        self.control("userinfo-fault", {"fault": fault})

    @property
    def requests_seen(self) -> list[str]:
        """The provider's requests since the test began, as "METHOD /path"."""
        return self.control("events")["requests"]

    @property
    def errors(self) -> list[dict]:
        return self.control("events")["errors"]


def _node_version(node: str) -> tuple[int, ...]:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    return tuple(int(part) for part in out.strip().lstrip("v").split(".")[:2])


def _wait_for_issuer(process: subprocess.Popen, log: Path) -> str:
    """The issuer line the provider prints once it listens; fails with its log when it does not come."""
    buffer = b""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        chunk = os.read(process.stdout.fileno(), 4096) if ready else b""
        buffer += chunk
        if b"\n" in buffer:
            return json.loads(buffer.split(b"\n")[0])["issuer"]
        if ready and not chunk:  # end of file: the provider exited
            process.wait(timeout=10)
            break
    process.kill()
    process.wait(timeout=10)
    pytest.fail(f"the OpenID provider did not start (exit code {process.returncode}):\n{log.read_text()}",
                pytrace=False)


def _wait_for_discovery(issuer: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    problem = ""
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if response.status_code == 200 and response.json().get("issuer") == issuer:
                return
            problem = f"{response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            problem = str(exc)
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"the OpenID provider serves no discovery document ({problem}):\n{log.read_text()}", pytrace=False)


@pytest.fixture(scope="session")
def openid_provider_server(tmp_path_factory):
    """Start tests/oidc_op/provider.js for the session, with the portal as its client."""
    node = shutil.which("node")
    if node is None:
        require_service("openid-provider", "node is not installed (apt-get install nodejs npm)")
    version = _node_version(node)
    if version < MIN_NODE:
        require_service("openid-provider", f"node {'.'.join(map(str, version))} is too old for oidc-provider 9 "
                                           f"(needs {'.'.join(map(str, MIN_NODE))} or later)")
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        require_service("openid-provider", f"its packages are not installed: run `npm ci` in {OP_DIR}")
    log = tmp_path_factory.mktemp("openid-provider") / "provider.log"
    env = {**os.environ, "OP_CLIENT_ID": CLIENT_ID, "OP_CLIENT_SECRET": CLIENT_SECRET,
           "OP_REDIRECT_URIS": CALLBACK_URL, "OP_PORT": "0"}
    with log.open("w") as stderr:
        process = subprocess.Popen([node, "provider.js"], cwd=OP_DIR, env=env, stdout=subprocess.PIPE,
                                   stderr=stderr)
    try:
        issuer = _wait_for_issuer(process, log)
        _wait_for_discovery(issuer, process, log)
        yield OpenIDProvider(issuer=issuer, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps used TOTP codes in the cache: a user of the same id in the previous test used this one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def openid_provider(openid_provider_server, settings, monkeypatch):
    """The provider, emptied for this test, and the portal configured for it (asking for acr values)."""
    openid_provider_server.control("reset")
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        monkeypatch, openid_provider_server.issuer, provider_id=PROVIDER_ID, client_id=CLIENT_ID,
        secret=CLIENT_SECRET, acr_values=f"{MFA},{SFA}")
    return openid_provider_server


# --- the browser's part ---------------------------------------------------------------------------

# The forms of provider.js's pages: <form id="login" method="post" action="/interaction/<uid>/login">.
FORM = re.compile(r'<form id="(?P<id>[a-z]+)" method="post" action="(?P<action>[^"]+)"')


def start_sign_in(client) -> str:
    """POST the portal's SSO button; returns the authorization URL at the provider it redirects to."""
    response = client.post(reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}))
    assert response.status_code == 302, response.content[:500]
    return response.url


def sign_in_at_provider(client, sub: str, *, acr: str = SFA, consent: bool = True,
                        password: str = OP_PASSWORD) -> str:
    """Go through the provider's pages from the portal's sign-in button to the redirect back.

    Returns the callback URL (path and query) the provider sends the browser to, not yet visited."""
    url = start_sign_in(client)
    browser = requests.Session()
    response = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(CALLBACK_URL):
                parts = urlsplit(location)
                return f"{parts.path}?{parts.query}"
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, f"{response.status_code} from the provider: {response.text[:500]}"
        forms = {match["id"]: urljoin(response.url, match["action"]) for match in FORM.finditer(response.text)}
        if "login" in forms:
            response = browser.post(forms["login"], data={"login": sub, "password": password, "acr": acr},
                                    allow_redirects=False, timeout=10)
        elif "consent" in forms:
            response = browser.post(forms["consent" if consent else "abort"], allow_redirects=False, timeout=10)
        else:
            raise AssertionError(f"unexpected page at the provider: {response.text[:500]}")
    raise AssertionError("the provider never sent the browser back to the portal")


def authentication_records(client) -> list[dict]:
    """allauth's record of how this session authenticated (method, type, acr, provider, ...)."""
    return [{k: v for k, v in record.items() if k != "at"}
            for record in client.session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])]


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")
