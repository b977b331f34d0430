"""Helpers to declare every response an endpoint can return (schemathesis checks that we do)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorSerializer

DESCRIPTIONS = {
    400: "Invalid input: the fields and the service's rules explain why.",
    401: "No credentials, or an unknown, revoked or expired token.",
    403: "Not allowed: missing role, token without the needed scope (insufficient_scope), or a staff "
         "member without a second factor (mfa_required).",
    404: "The object does not exist, or the caller may not see it.",
    409: "The object's current status does not allow this change.",
    429: "Too many failed token authentications from this address; retry after Retry-After seconds.",
}
ALWAYS = (401, 403, 429)


def error(code: int) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[code])


def responses(ok: dict, *codes: int) -> dict:
    """{success code: serializer or OpenApiResponse} plus the error responses, always 401/403/429."""
    out = dict(ok)
    for code in sorted({*codes, *ALWAYS}):
        out[code] = error(code)
    return out


LIST_ERRORS = (400, 404)  # an invalid filter value; a page past the end

# OpenAPI tags that group the endpoints in the documentation.
APPS = ["applications"]
AI_ACT = ["ai-act"]
ALLOCS = ["allocations"]
REVIEWS = ["staff: reviews"]
COMMITTEE = ["staff: access committee"]
OPS = ["staff: provisioning"]
