"""``{{ code|label:"app.models.Enum" }}`` and ``{{ codes|labels:"app.models.Enum"|join:", " }}``."""

from django import template

from portal.vocabulary import choice_label, choice_labels, choices_class

register = template.Library()


@register.filter
def label(code, enum_path: str):
    return choice_label(choices_class(enum_path), code)


@register.filter
def labels(codes, enum_path: str) -> list:
    return choice_labels(choices_class(enum_path), codes)
