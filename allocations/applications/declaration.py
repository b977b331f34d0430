"""The declaration of honour that every submission carries.

The words a person agrees to are stored with their submission (SubmissionDeclaration), so a version's
text is never changed in place: a new wording gets a new version, and a submission that confirms an
older one is refused (the person has to read the new text first)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from allocations.applications.models import Application

DECLARATION_VERSION = "2026-1"


def declaration_statements(application: Application, version: str = DECLARATION_VERSION) -> list[str]:
    """What the person declares, one statement per item, in the active language."""
    if version != DECLARATION_VERSION:
        raise ValueError(f"unknown declaration version {version!r}")
    organisation = application.organisation.legal_name
    return [
        _("The information in this application and in its attachments is true, complete and not misleading."),
        _("%(organisation)s is eligible for the access it applies for: its type, size and SME status are as "
          "declared in the portal.") % {"organisation": organisation},
        _("I am entitled to apply on behalf of %(organisation)s.") % {"organisation": organisation},
        _("I will tell the AI Factory without delay of any change that affects this application."),
    ]


def declaration_text(application: Application, version: str = DECLARATION_VERSION) -> str:
    """The declaration as one text, as stored with the submission."""
    lines = [_("I declare on my honour that:")]
    lines.extend(f"- {statement}" for statement in declaration_statements(application, version))
    return "\n".join(lines)
