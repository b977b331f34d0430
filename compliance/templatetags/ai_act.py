"""{{ rule.article|citation }}: an AI Act citation in the active language (compliance.ai_act.citations)."""

from django import template
from django.utils import translation

from compliance.ai_act.citations import format_citation

register = template.Library()


@register.filter
def citation(value) -> str:
    return format_citation(str(value or ""), translation.get_language() or "en")
