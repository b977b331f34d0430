"""Digital Object Identifiers, checked by their syntax only (no network lookup): `10.` then a registrant
code of at least four digits (subdivisions allowed: 10.1000.10), a slash and a suffix of printable
characters without spaces. A resolver address (https://doi.org/..., dx.doi.org) or a `doi:` prefix is
accepted and stripped, so that the same DOI is always stored the same way."""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DOI_PATTERN = re.compile(r"10\.\d{4,9}(?:\.\d+)*/[!-~]+")
PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi.org/",
            "doi:")
MAX_LENGTH = 200


def normalise_doi(value: str) -> str:
    """The DOI in `value` as 10.NNNN/suffix, or a ValidationError saying what is expected."""
    text = (value or "").strip()
    lowered = text.lower()
    for prefix in PREFIXES:
        if lowered.startswith(prefix):
            # A resolver address may carry the suffix percent-encoded.
            text = text[len(prefix):].strip()
            if prefix.endswith("/"):
                text = unquote(text)
            break
    if not text:
        raise ValidationError(_("Give the publication's DOI."))
    if len(text) > MAX_LENGTH or not DOI_PATTERN.fullmatch(text):
        raise ValidationError(_("This is not a DOI: a DOI looks like 10.1234/abc-123 (or "
                                "https://doi.org/10.1234/abc-123)."))
    return text


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"
