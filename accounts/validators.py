"""Values that reach a mail the portal sends to an address someone typed (accounts.services
addressed_mail_record): a name is a name, never a message."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A web address or a mail address in a name would turn the portal's mail into the sender's message.
_LINK = re.compile(r"://|\bwww\.|[^\s@]+@[^\s@]+\.[^\s@]", re.IGNORECASE)


def plain_name_validator(value: str) -> None:
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValidationError(_("A name is one line of text, without control characters."), code="control")
    if _LINK.search(value):
        raise ValidationError(_("A name cannot contain a web or e-mail address."), code="link")
