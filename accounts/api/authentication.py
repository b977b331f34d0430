"""API tokens: ``Authorization: Token aif_<prefix>_<secret>``.

Failed token authentications are counted per client address in the default cache (memory of each
process unless CACHE_URL names Redis, as production sets it, so that every gunicorn worker shares
the count). Past AIF_API_TOKEN_FAILURE_LIMIT failures (20) within AIF_API_TOKEN_FAILURE_WINDOW
seconds (300) the address gets 429 with Retry-After, even for a valid token, until the window ends.
The client address is REMOTE_ADDR, the one the audit trail records: put the proxy's real-IP
handling in front of the portal, not here."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.selectors import api_token_for_secret
from accounts.services import api_token_touch

KEYWORD = "Token"


def _limit() -> int:
    return int(getattr(settings, "AIF_API_TOKEN_FAILURE_LIMIT", 20))


def _window() -> int:
    return int(getattr(settings, "AIF_API_TOKEN_FAILURE_WINDOW", 300))


def _keys(ip: str) -> tuple[str, str]:
    return f"aif:api-token-failures:{ip}", f"aif:api-token-failures-since:{ip}"


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def failures_retry_after(ip: str) -> int | None:
    """Seconds until the address may try again, or None when it is not blocked."""
    count_key, since_key = _keys(ip)
    if (cache.get(count_key) or 0) < _limit():
        return None
    since = cache.get(since_key) or time.time()
    return max(1, int(since + _window() - time.time()))


def record_failure(ip: str) -> None:
    count_key, since_key = _keys(ip)
    window = _window()
    cache.add(since_key, time.time(), timeout=window)
    if cache.add(count_key, 1, timeout=window):
        return
    try:
        cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.add(count_key, 1, timeout=window)


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: session authentication may still apply
        ip = client_ip(request)
        wait = failures_retry_after(ip)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail=_("Too many failed authentications from your address."))
        token = None
        if len(header) == 2:
            try:
                token = api_token_for_secret(header[1].decode("ascii"))
            except UnicodeError:
                token = None
        if token is None or not token.user.is_active:
            record_failure(ip)
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired token."))
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token aif_<prefix>_<secret>`: create one at /me/tokens/ (shown once)."}
