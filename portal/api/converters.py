"""Path converters of the API. Bounded, so that an id or reference a database cannot hold never
reaches it: anything else matches no endpoint and gets the JSON 404 (see portal/api_urls.py)."""

from django.urls import register_converter


class IdConverter:
    regex = r"[1-9][0-9]{0,11}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


class ReferenceConverter:
    """Application and allocation references such as AIF-2026-0042."""

    regex = r"[A-Z]{2,10}-[0-9]{4}-[0-9]{4,6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class CodeConverter:
    """Codes of reference data such as sites (a slug of at most 30 characters)."""

    regex = r"[-a-zA-Z0-9_]{1,30}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register() -> None:
    register_converter(IdConverter, "api_id")
    register_converter(ReferenceConverter, "api_ref")
    register_converter(CodeConverter, "api_code")
