"""Small formatting helpers for the report templates (PDF and pages)."""

from django import template

from compliance.ai_act.wording import compute_warning_text, is_worded
from portal.numbers import scientific
from portal.templatetags.text_language import in_language

register = template.Library()


@register.filter
def compute_warning(warning) -> str:
    """A compute warning of a stored result, worded in the active language; a message stored before warnings
    carried their figures stays in English, marked as such."""
    text = compute_warning_text(warning)
    return text if is_worded(warning) else in_language(text, "en")


@register.filter
def percent_of(part, whole) -> int:
    """0-100, for bar widths."""
    try:
        return max(0, min(100, round(100 * float(part) / float(whole)))) if whole else 0
    except (TypeError, ValueError):
        return 0


@register.filter
def flop(value) -> str:
    """2.9e21 -> '2.9 × 10²¹ FLOP'; a dash when unknown."""
    return scientific(value, "FLOP")
