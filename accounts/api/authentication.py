"""API tokens: ``Authorization: Token aif_<prefix>_<secret>``.

Failed token authentications are counted in the default cache (memory of each process unless
CACHE_URL names Redis, as production sets it, so that every gunicorn worker shares the count), per
client and, within each client, per token prefix. The client is portal.client_ip's address: the one
allauth's sign-in limits count and the audit trail records, the real client behind the reverse proxy
once AIF_TRUSTED_PROXY_COUNT or AIF_CLIENT_IP_HEADER says how to find it.

Past AIF_API_TOKEN_FAILURE_LIMIT failures (20) within AIF_API_TOKEN_FAILURE_WINDOW seconds (300) the
client gets 429 with Retry-After until the window ends: at once, without a look-up, for a prefix it has
already failed on (guessing one token's secret stops there), and for any other token that fails. A
valid token it has not failed on still works: a valid token is never refused because other tokens
failed, from this client or from another one (one script with a stale token, or one guesser behind a
shared address, must not lock everybody else out). Nothing is counted per prefix across clients:
anyone who saw a token's prefix could then lock its owner out."""

from __future__ import annotations

import string
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.models import ApiToken
from accounts.selectors import api_token_for_secret
from accounts.services import api_token_touch
from portal.client_ip import client_ip

KEYWORD = "Token"
_MALFORMED = "-"  # the prefix bucket of a header that names no token at all


def _limit() -> int:
    return int(getattr(settings, "AIF_API_TOKEN_FAILURE_LIMIT", 20))


def _window() -> int:
    return int(getattr(settings, "AIF_API_TOKEN_FAILURE_WINDOW", 300))


def presented_prefix(secret: str | None) -> str:
    """The token prefix a presented secret names (validated, so safe in a cache key), or _MALFORMED."""
    parts = (secret or "").split("_")
    if (len(parts) >= 3 and parts[0] == "aif" and len(parts[1]) == ApiToken.PREFIX_LENGTH
            and all(c in string.hexdigits for c in parts[1])):
        return parts[1].lower()
    return _MALFORMED


def _client_keys(ip: str) -> tuple[str, str]:
    return f"aif:api-token-failures:{ip}", f"aif:api-token-failures-since:{ip}"


def _prefix_key(ip: str, prefix: str) -> str:
    return f"aif:api-token-failures:{ip}:{prefix}"


def failures_retry_after(ip: str) -> int | None:
    """Seconds until the client's failures stop counting against it, or None when it is not blocked."""
    count_key, since_key = _client_keys(ip)
    if (cache.get(count_key) or 0) < _limit():
        return None
    since = cache.get(since_key) or time.time()
    return max(1, int(since + _window() - time.time()))


def has_failed_on(ip: str, prefix: str) -> bool:
    return bool(cache.get(_prefix_key(ip, prefix)))


def _count(key: str, window: int) -> None:
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)


def record_failure(ip: str, prefix: str) -> None:
    count_key, since_key = _client_keys(ip)
    window = _window()
    cache.add(since_key, time.time(), timeout=window)
    _count(count_key, window)
    _count(_prefix_key(ip, prefix), window)


def _throttled(wait: int) -> exceptions.Throttled:
    return exceptions.Throttled(wait=wait, detail=_("Too many failed authentications from your address."))


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: session authentication may still apply
        secret = None
        if len(header) == 2:
            try:
                secret = header[1].decode("ascii")
            except UnicodeError:
                secret = None
        ip = client_ip(request) or "unknown"
        prefix = presented_prefix(secret)
        wait = failures_retry_after(ip)
        if wait is not None and has_failed_on(ip, prefix):
            raise _throttled(wait)
        token = api_token_for_secret(secret) if secret is not None else None
        if token is None or not token.user.is_active:
            record_failure(ip, prefix)
            if wait is not None:  # a blocked client's failure is a 429, not a 401
                raise _throttled(failures_retry_after(ip) or wait)
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired token."))
        api_token_touch(token=token)
        # The token's user is bound to no session: accounts.mfa counts a second factor while its holder has
        # one enrolled (asked only of staff, when a role is checked).
        return token.user, token

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token aif_<prefix>_<secret>`: create one at /me/tokens/ (shown once)."}
