"""Content-Security-Policy and Permissions-Policy on every kind of response (pages, the API, the admin,
static files, the portal's own refusals), next to the headers the portal already sent; the nonce
recipe of docs/deploy.md; form-action as the OIDC settings make it; and no template served to a
browser with inline script, event-handler or style attributes (which the policy refuses)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from portal.middleware import permissions_policy
from tests import factories as f

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
DENIED = ["camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "midi", "display-capture",
          "accelerometer", "gyroscope", "magnetometer", "browsing-topics"]


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice in {header}"
        parsed[name] = sources
    return parsed


def features(response) -> dict[str, str]:
    return dict(item.strip().split("=", 1) for item in response.headers["Permissions-Policy"].split(","))


def assert_headers(response, *, whole_stack: bool = True) -> None:
    """`whole_stack=False`: answered by a middleware ahead of XFrameOptionsMiddleware (the 413 page, static
    files: tests/test_deploy.py), which never had X-Frame-Options; frame-ancestors now covers them."""
    assert policy(response) == EXPECTED
    allowed = features(response)
    for feature in DENIED:
        assert allowed[feature] == "()", feature
    assert allowed["publickey-credentials-get"] == allowed["publickey-credentials-create"] == "(self)"
    # The headers the portal sent before stay.
    assert response.headers.get("X-Frame-Options") == ("DENY" if whole_stack else None)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(("path", "status"), [
    ("/", 200), ("/accounts/login/", 200), ("/accounts/signup/", 200), ("/api/docs/", 200),
    ("/api/v1/me/", 401), ("/api/v1/nothing-here/", 404), ("/api/schema/", 200), ("/admin/login/", 200),
    ("/healthz", 200), ("/no-such-page/", 404),
])
def test_anonymous_responses(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_headers(response)


def test_signed_in_pages_the_api_and_the_admin(client):
    member = f.applicant()
    client.force_login(member)
    for url in ("/dashboard/", "/applications/", "/accounts/2fa/", "/me/privacy/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_headers(response)
    api = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {f.token(member)}")
    assert api.status_code == 200 and api.json()["email"] == member.email
    assert_headers(api)

    client.force_login(f.AdminFactory(totp=True))
    for url in ("/admin/", "/admin/accounts/user/", "/admin/allocations/call/add/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_headers(response)


def test_the_portals_own_refusals(client, member):
    client.force_login(member)
    too_large = client.generic("POST", "/applications/AIF-2026-0001/attachments/", b"",
                               CONTENT_LENGTH=str(10 * settings.UPLOAD_MAX_BODY_BYTES))
    assert too_large.status_code == 413
    assert_headers(too_large, whole_stack=False)
    redirect = client.post("/i18n/setlang/", {"language": "fr", "next": "/dashboard/"})
    assert redirect.status_code == 302
    assert_headers(redirect)


# --- nonces: the recipe docs/deploy.md gives for an inline script -----------------------------------

NONCE_PAGE = '<script nonce="{{ request.csp_nonce }}">document.title = "ok";</script>'


def nonce_view(request):
    return HttpResponse(engines["django"].from_string(NONCE_PAGE).render(request=request))


urlpatterns = [path("nonce/", nonce_view), path("plain/", lambda request: HttpResponse("plain"))]


@pytest.mark.urls(__name__)
def test_a_nonce_is_in_the_header_only_of_the_responses_that_use_it(client):
    first, second = client.get("/nonce/"), client.get("/nonce/")
    nonces = []
    for response in (first, second):
        nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
        assert policy(response)["script-src"] == ["'self'", f"'nonce-{nonce}'"]
        assert len(nonce) >= 22
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert policy(client.get("/plain/"))["script-src"] == ["'self'"]


# --- form-action and the OIDC issuer ----------------------------------------------------------------

OIDC = {"OIDC_CLIENT_ID": "aif-portal", "OIDC_CLIENT_SECRET": "s3cret",
        "OIDC_SERVER_URL": "https://proxy.myaccessid.example/realms/aif/"}


def form_action(namespace) -> list[str]:
    return namespace["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"]


def test_form_action_allows_the_oidc_issuer(settings_from_env, monkeypatch):
    monkeypatch.delenv("AIF_CSP_FORM_ACTION", raising=False)
    assert form_action(settings_from_env(**OIDC)) == ["'self'", "https://proxy.myaccessid.example"]


def test_form_action_takes_further_origins_from_the_environment(settings_from_env):
    namespace = settings_from_env(**OIDC, AIF_CSP_FORM_ACTION="https://wayf.example.org, https://idp.example.be")
    assert form_action(namespace) == ["'self'", "https://proxy.myaccessid.example", "https://wayf.example.org",
                                      "https://idp.example.be"]


@pytest.mark.parametrize("env", [{}, {"OIDC_SERVER_URL": "https://proxy.myaccessid.example/"}])
def test_form_action_is_self_without_single_sign_on(settings_from_env, monkeypatch, env):
    for name in ("OIDC_CLIENT_ID", "OIDC_SERVER_URL", "AIF_CSP_FORM_ACTION"):
        monkeypatch.delenv(name, raising=False)
    assert form_action(settings_from_env(**env)) == ["'self'"]


# --- the header's format ----------------------------------------------------------------------------


def test_permissions_policy_format():
    assert permissions_policy({"camera": [], "usb": ["self"], "payment": ["self", "https://pay.example"]}) == (
        'camera=(), usb=(self), payment=(self "https://pay.example")')


# --- templates: nothing inline that the policy would refuse -----------------------------------------

# WeasyPrint's PDF templates are never served to a browser.
# PDF layouts, and the HTML alternative of mails (mail clients read styles only inline): never a page.
NOT_SERVED = ("templates/compliance/reports/pdf/", "templates/portal/email/")
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_served_to_browsers_has_inline_script_or_style():
    found = []
    for template in sorted((REPO / "templates").rglob("*.html")):
        relative = template.relative_to(REPO).as_posix()
        if relative.startswith(NOT_SERVED):
            continue
        text = template.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{relative}:{line}: {what}: {match.group(0).strip()}")
    assert found == []


def test_the_template_check_finds_what_it_looks_for():
    samples = ['<script>alert(1)</script>', '<a onclick="go()">', '<span style="width: 5%">', "<style>p{}</style>",
               '<a href="javascript:void(0)">']
    for sample, (pattern, _what) in zip(samples, INLINE, strict=True):
        assert pattern.search(sample), sample
    assert not INLINE[0][0].search('<script src="/static/js/x.js" defer></script>')
    assert not INLINE[0][0].search('<script id="data" type="application/json">{}</script>')
