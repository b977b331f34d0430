"""Small formatting helpers for the report templates (PDF and pages)."""

import json

from django import template

from compliance.ai_act.wording import compute_warning_text

register = template.Library()


@register.filter
def compute_warning(warning) -> str:
    """A compute warning of a stored result, worded in the active language."""
    return compute_warning_text(warning)


@register.filter
def audit_changes(changes, limit: int = 240) -> str:
    """An audit event's changes as one short line: key=value; key=value."""
    if not changes:
        return ""
    parts = []
    for key, value in sorted(changes.items()):
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        parts.append(f"{key}={value}")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def percent_of(part, whole) -> int:
    """0-100, for bar widths."""
    try:
        return max(0, min(100, round(100 * float(part) / float(whole)))) if whole else 0
    except (TypeError, ValueError):
        return 0


@register.filter
def flop(value) -> str:
    if value in (None, ""):
        return "—"
    try:
        return f"{float(value):.3g} FLOP"
    except (TypeError, ValueError):
        return str(value)
