"""The client's address, as one answer for sign-in rate limits, API token failures and the audit trail.

Behind the reverse proxy REMOTE_ADDR is the proxy's address for everyone. allauth reads the client's
address from the proxy's header when the settings say how far to trust it
(ALLAUTH_TRUSTED_PROXY_COUNT for X-Forwarded-For, ALLAUTH_TRUSTED_CLIENT_IP_HEADER for a header the
proxy sets, both from AIF_* variables in portal/settings.py). Asking allauth's adapter here, rather than
parsing the header a second time, keeps the three uses on the same address: an account locked out by
sign-in failures, an API client blocked for token failures and the address an audit event records
are always the same client."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, or the peer's (REMOTE_ADDR) when the proxy's header cannot tell.

    allauth refuses a request whose trusted header is missing or too short (a direct request to a
    web process, a proxy that sets fewer X-Forwarded-For entries than the trusted count): its sign-in
    views fail for it. Everything else still needs an address, and the peer's is the one that cannot
    be forged."""
    try:
        return get_adapter(request).get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):
        return request.META.get("REMOTE_ADDR") or None
