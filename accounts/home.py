"""The staff home: each role's work, contributed by the domains that hold it.

accounts imports no domain, so the domains register what their role's section shows
(`register_work(role, "dotted.path.of.builder")`, from their AppConfig.ready(), as they register privacy
exporters). A builder is a selector: given the person and today, it returns the lists and tables of one part of the
section. Everything in them is already a text a person reads (labels, never codes)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from portal.workdays import working_days_between

from .roles import Role, is_staff_member, roles_of

# The order of the sections on the page, the main role first: the one that decides for the others.
ROLE_ORDER = (Role.ALLOCATION_MANAGER, Role.ETHICS_OFFICER, Role.REVIEWER, Role.OPERATOR)

# How many items each list shows; the count and the list's own page give the rest.
ITEMS_SHOWN = 5


@dataclass(frozen=True)
class WorkItem:
    """One thing waiting: what it is, where to act on it, and by when, or since when when it has no
    deadline. Build it with `due_item` or `waiting_item`, which count the working days (portal.workdays)."""

    title: str
    link: str
    detail: str = ""
    due: datetime.date | None = None
    # With a due date: working days past it (positive: overdue by that many; zero or negative: days left).
    working_days: int = 0
    since: datetime.date | None = None
    waited: int = 0  # without a due date: working days waited since `since`
    # By the calendar: a deadline on Friday is overdue on Saturday, zero working days after it.
    overdue: bool = False
    due_today: bool = False

    @property
    def days_left(self) -> int:
        return -self.working_days


def due_item(*, title: str, link: str, due: datetime.date | None, today: datetime.date, detail: str = "",
             since: datetime.date | None = None) -> WorkItem:
    """An item with a deadline (or, lacking one, the date it has waited since)."""
    if due is None:
        return waiting_item(title=title, link=link, since=since, today=today, detail=detail)
    return WorkItem(title=title, link=link, detail=detail, due=due, working_days=working_days_between(due, today),
                    overdue=due < today, due_today=due == today)


def waiting_item(*, title: str, link: str, since: datetime.date | None, today: datetime.date,
                 detail: str = "") -> WorkItem:
    """An item without a deadline: how long it has waited."""
    waited = max(working_days_between(since, today), 0) if since else 0
    return WorkItem(title=title, link=link, detail=detail, since=since, waited=waited)


@dataclass(frozen=True)
class WorkList:
    """A kind of work: how many are waiting, the next ones (overdue first), and the page with all."""

    key: str
    label: Any
    count: int
    items: list[WorkItem]
    link: str = ""
    empty: Any = ""


@dataclass(frozen=True)
class WorkTable:
    """Figures rather than items (capacity per site and quarter): headers and rows of texts."""

    key: str
    label: Any
    headers: list[Any]
    rows: list[list[Any]]
    link: str = ""


@dataclass
class HomeSection:
    role: str
    label: Any
    parts: list[WorkList | WorkTable] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return sum(part.count for part in self.parts if isinstance(part, WorkList))


Builder = Callable[[Any, datetime.date], list[WorkList | WorkTable]]
# Per role, the dotted paths of its builders: named, not imported, so that an app registers them from
# AppConfig.ready() before its selectors (and their models) can be imported.
_builders: dict[str, list[str]] = {}


def register_work(role: str, builder_path: str) -> None:
    builders = _builders.setdefault(role, [])
    if builder_path not in builders:
        builders.append(builder_path)


@functools.cache
def _builder(path: str) -> Builder:
    return import_string(path)


def sections_for(user, *, today: datetime.date | None = None) -> list[HomeSection]:
    """A section per staff role the person holds, main role first, each with the work registered for it."""
    today = today or timezone.localdate()
    roles = roles_of(user)
    sections = []
    for role in ROLE_ORDER:
        if role in roles:
            section = HomeSection(role=role, label=Role(role).label)
            for path in _builders.get(role, []):
                section.parts.extend(_builder(path)(user, today))
            sections.append(section)
    return sections


def landing_url(user) -> str:
    """Where a person lands after signing in: the staff home for staff, the dashboard for applicants."""
    return reverse("staff_home") if is_staff_member(user) else reverse("dashboard")
