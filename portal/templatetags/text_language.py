"""Text whose language is not the page's (WCAG 3.1.2, language of parts).

Some text exists in one language only: an AI Act result or a compute warning stored as it was evaluated,
the title of an AI Act rule stored with an ethics trigger, terms of use given in English only, the output
of Slurm and other system messages. On a French or Dutch page such a value is marked with its language, so
that a screen reader reads it with the right voice; on a page in that same language nothing is added.

``{{ value|in_language }}`` wraps the value in ``<span lang="en">`` (``{{ value|in_language:code }}`` for
another language; an empty code adds nothing), and ``<pre{% lang_attr %}>`` writes `` lang="en"`` on an
element of its own, when the page is in another language."""

from __future__ import annotations

from django import template
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()


def differs(language: str | None) -> bool:
    """Whether text in ``language`` needs marking on the page being rendered."""
    if not language:
        return False
    page = (translation.get_language() or "en").split("-")[0].lower()
    return language.split("-")[0].lower() != page


@register.filter(needs_autoescape=True)
def in_language(value, language: str = "en", autoescape: bool = True):
    if value is None:
        return ""
    text = conditional_escape(value) if autoescape else value
    if value == "" or not differs(language):
        return text
    return format_html('<span lang="{}">{}</span>', language, text)


@register.simple_tag
def lang_attr(language: str = "en"):
    return format_html(' lang="{}"', language) if differs(language) else mark_safe("")
