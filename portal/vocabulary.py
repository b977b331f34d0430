"""Codes to the words people read: every stored code is shown through its enum's translated label.

Generic over any ``models.Choices`` class, so that the core names no domain: templates name the enum
by its dotted path (``{{ codes|labels:"accounts.models.OrganisationType" }}``) and Python passes it."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.apps import apps
from django.db import models
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.module_loading import import_string


def choice_label(choices: type[models.Choices], code):
    """The label of one code; a code the enum does not know (old data) is shown as it is."""
    try:
        return choices(code).label
    except ValueError:
        return code


def choice_labels(choices: type[models.Choices], codes: Iterable) -> list:
    """The labels of several codes in the enum's order (stable whatever the order stored), unknown codes last."""
    codes = list(codes or ())
    known = [member.label for member in choices if member in codes]
    return known + [code for code in codes if code not in choices.values]


@functools.cache
def choices_class(path: str) -> type[models.Choices]:
    """The enum at a dotted path; anything else is a template author's error, raised loudly."""
    found = import_string(path)
    if not (isinstance(found, type) and issubclass(found, models.Choices)):
        raise TypeError(f"{path} is not a models.Choices enum")
    return found


def _field_display(self, field):
    """``get_FOO_display`` with the field's labels read once: Django builds a dict of every choice on each
    call, hashing each (lazy) label, that is one translation per choice, 90 for an audit event's action,
    for every value shown. The labels stay lazy here, so each call still reads the active language."""
    value = getattr(self, field.attname)
    try:
        labels = field.__dict__.get("_labels_by_value")
        if labels is None:
            labels = {choice: label for choice, label in field.flatchoices}
            if not isinstance(field.choices, CallableChoiceIterator):  # callable choices may change
                field._labels_by_value = labels
        label = labels.get(value, value)
    except TypeError:  # an unhashable value or choice (a list in a JSON field): Django's own lookup
        return models.Model._get_FIELD_display(self, field)
    return force_str(label, strings_only=True)


def install_field_displays() -> None:
    """Give every model's ``get_FOO_display`` that Django generated the reading above (PortalConfig.ready).
    A model that writes its own ``get_FOO_display`` keeps it."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            name = f"get_{field.name}_display"
            method = model.__dict__.get(name)
            if (field.choices is not None and isinstance(method, functools.partialmethod)
                    and method.func is models.Model._get_FIELD_display):
                setattr(model, name, functools.partialmethod(_field_display, field=field))
