"""Request context (request id, client address) for audit events written during a request, and the
Permissions-Policy header.

The address is portal.client_ip's: the one the sign-in and API rate limits count."""

import uuid

from django.conf import settings

from .client_ip import client_ip
from .request_context import bind_request, reset_request


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        request.request_id = request_id[:64]
        token = bind_request(request_id=request.request_id, ip=client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            reset_request(token)
        response["X-Request-ID"] = request.request_id
        return response


def permissions_policy(features: dict[str, list[str]]) -> str:
    """The header's value: `camera=()` refuses a feature everywhere, `usb=(self)` allows the portal's
    own pages, an origin is quoted (`("https://example.org")`)."""
    def allowlist(sources: list[str]) -> str:
        return " ".join(source if source in ("self", "*") else f'"{source}"' for source in sources)

    return ", ".join(f"{feature}=({allowlist(sources)})" for feature, sources in features.items())


class PermissionsPolicyMiddleware:
    """Adds settings.PERMISSIONS_POLICY to every response that has none of its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
