"""Who runs the service and how to reach them, as the public pages show it (settings read when called)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings

#: The settings' defaults (portal/settings.py): placeholders a deployment must replace (`check --deploy`).
PLACEHOLDERS = {
    "AIF_OPERATOR_NAME": "AI Factory hosting entity",
    "AIF_CONTACT_EMAIL": "contact@aifactory.example",
    "AIF_PRIVACY_EMAIL": "privacy@aifactory.example",
    "AIF_ACCESSIBILITY_EMAIL": "accessibility@aifactory.example",
}


@dataclass(frozen=True)
class Operator:
    name: str
    address: str
    enterprise_number: str
    website: str
    contact_email: str
    privacy_email: str
    accessibility_email: str
    accessibility_checked: datetime.date | None
    accessibility_complaints_url: str
    data_protection_authority_url: str


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def operator() -> Operator:
    return Operator(
        name=settings.AIF_OPERATOR_NAME,
        address=settings.AIF_OPERATOR_ADDRESS,
        enterprise_number=settings.AIF_OPERATOR_ENTERPRISE_NUMBER,
        website=settings.AIF_OPERATOR_WEBSITE,
        contact_email=settings.AIF_CONTACT_EMAIL,
        privacy_email=settings.AIF_PRIVACY_EMAIL,
        accessibility_email=settings.AIF_ACCESSIBILITY_EMAIL,
        accessibility_checked=_date(settings.AIF_ACCESSIBILITY_CHECKED),
        accessibility_complaints_url=settings.AIF_ACCESSIBILITY_COMPLAINTS_URL,
        data_protection_authority_url=settings.AIF_DATA_PROTECTION_AUTHORITY_URL,
    )


def placeholders() -> list[str]:
    """The settings the public pages read that are still at a placeholder (or, for the date, not a date)."""
    left = [name for name, value in PLACEHOLDERS.items() if getattr(settings, name, value) in (value, "")]
    if operator().accessibility_checked is None:
        left.append("AIF_ACCESSIBILITY_CHECKED")
    return left
