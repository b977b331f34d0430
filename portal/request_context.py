"""A context variable holding what we know about the current request, if any.

Services read it when writing audit events so that views never have to thread it through."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    ip: str | None = None


_current: ContextVar[RequestInfo] = ContextVar("aif_request", default=RequestInfo())  # noqa: B039 (frozen)


def bind_request(*, request_id: str, ip: str | None):
    return _current.set(RequestInfo(request_id=request_id, ip=ip))


def reset_request(token) -> None:
    _current.reset(token)


def current_request() -> RequestInfo:
    return _current.get()
