"""Personal data spread over the apps: each app registers how to export and erase what it holds about a
person, from its AppConfig.ready(); accounts.privacy runs the export and the erasure over this registry.

The registry lives in the core so that any app, the core included (the e-mail outbox), contributes
without importing accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# An exporter returns what the app holds about the user; an eraser deletes or pseudonymises it (given the
# user and the e-mail address they had before erasure) and returns how many rows it changed.
Exporter = Callable[[Any], Any]
Eraser = Callable[[Any, str], int]
_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_exporter(name: str, func: Exporter) -> None:
    _exporters[name] = func


def register_eraser(name: str, func: Eraser) -> None:
    _erasers[name] = func


def exporters() -> list[tuple[str, Exporter]]:
    return sorted(_exporters.items())


def erasers() -> list[tuple[str, Eraser]]:
    return sorted(_erasers.items())
