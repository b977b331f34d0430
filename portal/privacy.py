"""Personal data spread over the apps: each app registers how to export and erase what it holds about a
person, from its AppConfig.ready(); accounts.privacy runs the export and the erasure over this registry.

The registry lives in the core so that any app, the core included (the e-mail outbox), contributes
without importing accounts. Each registration names the models it covers ("app_label.ModelName"), so a
test can hold every model that stores personal data to having an exporter and an eraser
(tests/accounts/test_privacy_coverage.py); `personal_fields` is the rule it applies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import models

# An exporter returns what the app holds about the user; an eraser deletes or pseudonymises it (given the
# user and the e-mail address they had before erasure) and returns how many rows it changed.
Exporter = Callable[[Any], Any]
Eraser = Callable[[Any, str], int]
_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}
_exported_models: dict[str, set[str]] = {}
_erased_models: dict[str, set[str]] = {}
_staff_exporters: set[str] = set()


def register_exporter(name: str, func: Exporter, *, covers: Iterable[str] = (), staff: bool = False) -> None:
    """`name` is the key of the export document; `covers` the models ("accounts.Invitation") it reads.
    `staff`: what the person did in a staff role (reviews, decisions, ...), which names other
    organisations' applications: exported only to a sign-in that may act in that role."""
    _exporters[name] = func
    _exported_models[name] = set(covers)
    if staff:
        _staff_exporters.add(name)
    else:
        _staff_exporters.discard(name)


def register_eraser(name: str, func: Eraser, *, covers: Iterable[str] = ()) -> None:
    """`covers` names the models whose personal fields the eraser deletes or pseudonymises."""
    _erasers[name] = func
    _erased_models[name] = set(covers)


def exporters(*, staff: bool = True) -> list[tuple[str, Exporter]]:
    """Every exporter; without `staff`, those of the staff roles are left out."""
    return sorted((name, func) for name, func in _exporters.items() if staff or name not in _staff_exporters)


def erasers() -> list[tuple[str, Eraser]]:
    return sorted(_erasers.items())


def exported_models() -> set[str]:
    return set().union(*_exported_models.values())


def erased_models() -> set[str]:
    return set().union(*_erased_models.values())


# --------------------------------------------------------------------------------- what is personal

IDENTIFYING = "identifying"  # names the person: an address, a name, a username, an IP address
FREE_TEXT = "free_text"      # text someone typed, which may say anything about anyone
LINK = "link"                # points at the person's user row: who did what


def field_kind(field: models.Field) -> str | None:
    """How a concrete field may hold personal data, by the portal's rule, or None.

    - identifying: e-mail fields and fields named *email*, *name* (full_name, username, cluster_username,
      legal_name, ...), ip or *_ip, and IP address fields;
    - free text: every TextField;
    - link: a foreign key to the user model.
    The rule is wide on purpose: a field it flags that holds nothing personal is named, with the reason,
    in the allow-list of the coverage test."""
    name = field.name.lower()
    if (isinstance(field, models.EmailField | models.GenericIPAddressField) or "email" in name or "name" in name
            or name == "ip" or name.endswith("_ip")):
        return IDENTIFYING
    if isinstance(field, models.TextField):
        return FREE_TEXT
    if field.is_relation and field.many_to_one and field.related_model is not None \
            and field.related_model._meta.label == settings.AUTH_USER_MODEL:
        return LINK
    return None


def personal_fields(model: type[models.Model]) -> dict[str, str]:
    """{field name: kind} of the model's concrete fields that may hold personal data."""
    kinds = {}
    for field in model._meta.concrete_fields:
        kind = field_kind(field)
        if kind is not None:
            kinds[field.name] = kind
    return kinds
