"""The API's JSON parser: DRF's, refusing a NUL character anywhere in the document.

PostgreSQL refuses NUL in a text column and in a query's text parameter. DRF's character fields refuse it
already, but a code looked up as it comes (a site or access mode given by its code, a site code as a key of a
split) reached the database and answered 500. No text the API takes may hold NUL, so the document is refused
whole, with a 400 like any malformed JSON."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if holds_nul(data):
            raise ParseError("A text in the request holds a NUL character (\\u0000), which no field accepts.")
        return data


def holds_nul(value) -> bool:
    """Whether a string, a key or a value anywhere in a parsed JSON document holds NUL (iterative: a deeply
    nested document is no recursion risk)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
