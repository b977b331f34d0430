"""SSH public keys a person uploads for the clusters: what a key must look like before the portal keeps it.

A line ``<type> <base64 body> [comment]`` of an accepted type, whose body decodes and names the same type
(the first field of the wire format), within a size cap. Private keys, certificates, option prefixes
(``command=...``) and anything else are refused with a message the person can act on. The fingerprint is
OpenSSH's ``SHA256:...``."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import struct

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# RSA under 2048 bits and DSA are refused by current OpenSSH servers anyway.
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
MAX_KEY_CHARS = 8192
MIN_RSA_BITS = 2048
COMMENT_RE = re.compile(r"[\w .@+()/:-]{0,100}")
MAX_KEYS_PER_PERSON = 10


@dataclasses.dataclass(frozen=True)
class ParsedKey:
    key_type: str
    body: str
    comment: str
    fingerprint: str

    @property
    def line(self) -> str:
        """What the directory stores (``type body comment``)."""
        return f"{self.key_type} {self.body} {self.comment}".strip()


def _wire_fields(blob: bytes) -> list[bytes]:
    fields, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError("truncated")
        (length,) = struct.unpack(">I", blob[offset:offset + 4])
        offset += 4
        if offset + length > len(blob):
            raise ValueError("truncated")
        fields.append(blob[offset:offset + length])
        offset += length
    return fields


def parse_public_key(text: str) -> ParsedKey:
    """The key in ``text``, or a ValidationError saying what is wrong with it."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Paste your public key (the contents of a file ending in .pub)."), code="required")
    if "PRIVATE KEY" in text:
        raise ValidationError(
            _("This is a private key: never share it. Paste the public key instead, from the file ending in .pub."),
            code="private")
    if len(text) > MAX_KEY_CHARS:
        raise ValidationError(_("This key is too long (at most %(max)s characters)."), code="too_long",
                              params={"max": MAX_KEY_CHARS})
    if "\n" in text or "\r" in text:
        raise ValidationError(_("Paste one key, on one line."), code="lines")
    parts = text.split(None, 2)
    key_type = parts[0]
    if key_type not in KEY_TYPES:
        if key_type.endswith("-cert-v01@openssh.com"):
            raise ValidationError(_("Certificates are not accepted: paste the public key itself."), code="cert")
        raise ValidationError(
            _("This is not an SSH public key of an accepted type (%(types)s)."), code="type",
            params={"types": ", ".join(KEY_TYPES[:3])})
    if len(parts) < 2:
        raise ValidationError(_("The key's body is missing after its type."), code="body")
    body = parts[1]
    comment = parts[2].strip() if len(parts) > 2 else ""
    try:
        blob = base64.b64decode(body, validate=True)
        fields = _wire_fields(blob)
    except (binascii.Error, ValueError):
        raise ValidationError(_("The key's body is not valid: copy the whole line again."), code="body") from None
    if not fields or fields[0].decode(errors="replace") != key_type:
        raise ValidationError(_("The key's body does not match its type %(type)s: copy the whole line again."),
                              code="mismatch", params={"type": key_type})
    if key_type == "ssh-rsa":
        modulus = fields[2] if len(fields) > 2 else b""
        bits = int.from_bytes(modulus, "big").bit_length()
        if bits < MIN_RSA_BITS:
            raise ValidationError(_("RSA keys need at least %(bits)s bits; make an Ed25519 key instead."),
                                  code="weak", params={"bits": MIN_RSA_BITS})
    if not COMMENT_RE.fullmatch(comment):
        raise ValidationError(_("The comment after the key may hold letters, digits, spaces and . @ + ( ) / : - "
                                "only, up to 100 characters."), code="comment")
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return ParsedKey(key_type=key_type, body=body, comment=comment, fingerprint=f"SHA256:{digest}")
