"""One transition engine for every workflow with states.

A workflow is data: the model, its status enum, a table of (from, to) -> the kinds of actor allowed to
make that move, and a function that says which kinds a person is for one object. `transition` is
the only code that changes a status: it locks the row, returns early when the row is already in
the target state (every transition is idempotent), checks the table and the actor, lets the caller
set the fields that go with the move, saves with `update_fields`, writes the audit event in the same
transaction, and runs the caller's follow-up (which schedules e-mails and tasks on commit).

Named services (`application_submit`, `allocation_suspend`, `reviewer_declare`, ...) are thin
wrappers around it; each domain keeps its table in its own `workflow.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy

from portal.audit import AuditAction, audit_record


class Actor(models.TextChoices):
    """Who makes a move: the kinds a transition table names."""

    SYSTEM = "system", gettext_lazy("The portal (scheduled or automatic)")
    APPLICANT = "applicant", gettext_lazy("A member of the applying organisation")
    REVIEWER = "reviewer", gettext_lazy("The assigned reviewer")
    MANAGER = "manager", gettext_lazy("An allocation manager")
    ETHICS_OFFICER = "ethics_officer", gettext_lazy("An ethics officer")
    OPERATOR = "operator", gettext_lazy("An operator")


class TransitionError(ValidationError):
    """The move is not in the workflow's table (from the object's current state)."""


Table = Mapping[tuple[str, str], frozenset[Actor]]


def table(rows: Mapping[tuple[str, str], Actor | Iterable[Actor]]) -> dict[tuple[str, str], frozenset[Actor]]:
    """Normalise a transition table: each move names one actor kind or several."""
    return {move: frozenset([who] if isinstance(who, Actor) else who) for move, who in rows.items()}


@dataclass(frozen=True)
class Workflow:
    name: str
    model: type[models.Model]
    states: type[models.TextChoices]
    transitions: Table
    # Which kinds of actor `user` is for `obj` (None is the portal itself: SYSTEM).
    actors: Callable[[Any, models.Model], set[Actor]]
    audit_action: str
    field: str = "status"
    terminal: frozenset[str] = dataclass_field(default_factory=frozenset)
    # Messages; %(current)s and %(target)s are the states' labels.
    refused: str = gettext_lazy("%(current)s cannot become %(target)s.")
    forbidden: str = gettext_lazy("You are not allowed to make this change.")
    # Moves that are technical progress, not decisions: made without an audit event.
    unaudited: frozenset[tuple[str, str]] = dataclass_field(default_factory=frozenset)
    # Clearer refusals for some moves: (current, target) or (current, None) for any target.
    refusals: Mapping[tuple[str, str | None], str] = dataclass_field(default_factory=dict)

    def __post_init__(self):
        AuditAction(self.audit_action)  # a ValueError at import names a workflow outside the vocabulary

    def allowed(self, src: str, dst: str) -> frozenset[Actor]:
        return self.transitions.get((src, dst), frozenset())

    def kinds_of(self, user, obj: models.Model) -> set[Actor]:
        return {Actor.SYSTEM} if user is None else set(self.actors(user, obj))

    def may(self, user, obj: models.Model, to: str) -> bool:
        """Whether `user` may move `obj` (as it is now) to `to`: the pages offer only these moves."""
        return bool(self.allowed(getattr(obj, self.field), to) & self.kinds_of(user, obj))

    def label(self, value: str) -> str:
        return str(self.states(value).label)

    def refusal(self, current: str, target: str) -> str:
        message = self.refusals.get((current, target)) or self.refusals.get((current, None)) or self.refused
        return str(message) % {"current": self.label(current), "target": self.label(target)}


def transition(
    workflow: Workflow,
    *,
    actor,
    obj: models.Model,
    to: str,
    check: Callable[[models.Model], None] | None = None,
    before_save: Callable[[models.Model], Iterable[str] | None] | None = None,
    changes: dict[str, Any] | Callable[[models.Model], dict[str, Any]] | None = None,
    action: str | None = None,
    audit_target: Callable[[models.Model], models.Model] | None = None,
    then: Callable[[models.Model, str], None] | None = None,
    select_related: Iterable[str] = (),
):
    """Move `obj` to `to` through `workflow`; return the locked, saved row.

    `check(row)` raises to refuse a move the table allows (a missing reason, a condition of the
    domain); `before_save(row)` sets the fields that go with the move and returns their names;
    `changes` (a dict, or a function of the row) adds to the audit event's changes;
    `then(row, old)` runs in the same transaction after the audit event (schedule side effects on
    commit there). Already in `to`: nothing runs, the row is returned as it is."""
    with transaction.atomic():
        queryset = workflow.model.objects.select_for_update(of=("self",) if select_related else ())
        row = queryset.select_related(*select_related).get(pk=obj.pk)
        current = getattr(row, workflow.field)
        if current == to:
            return row
        allowed = workflow.allowed(current, to)
        if not allowed:
            raise TransitionError(workflow.refusal(current, to))
        if not allowed & workflow.kinds_of(actor, row):
            raise PermissionDenied(str(workflow.forbidden))
        if check is not None:
            check(row)
        setattr(row, workflow.field, to)
        fields = [workflow.field]
        if before_save is not None:
            fields.extend(before_save(row) or ())
        row.save(update_fields=list(dict.fromkeys(fields)))
        if (current, to) not in workflow.unaudited:
            target = audit_target(row) if audit_target is not None else row
            extra = changes(row) if callable(changes) else changes
            audit_record(actor=actor, action=AuditAction(action or workflow.audit_action), target=target,
                         changes={workflow.field: [current, to], **(extra or {})})
        if then is not None:
            then(row, current)
    return row
