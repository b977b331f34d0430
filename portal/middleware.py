"""Request context (request id, client address) for audit events written during a request.

The address is portal.client_ip's: the one the sign-in and API rate limits count."""

import uuid

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
