"""Codes to the words people read: every stored code is shown through its enum's translated label.

Generic over any ``models.Choices`` class, so that the core names no domain: templates name the enum
by its dotted path (``{{ codes|labels:"accounts.models.OrganisationType" }}``) and Python passes it."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.db import models
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
