"""Application statuses: the table of allowed moves, run by the one transition engine (portal.workflow)."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import can_manage
from portal.audit import AuditAction
from portal.workflow import Actor, Workflow, table

from .models import Application
from .models import ApplicationStatus as S
from .permissions import is_applicant_member

A, M, SYSTEM = Actor.APPLICANT, Actor.MANAGER, Actor.SYSTEM

APPLICATION_TRANSITIONS = table({
    (S.DRAFT, S.SUBMITTED): A,
    (S.DRAFT, S.WITHDRAWN): A,
    (S.SUBMITTED, S.IN_REVIEW): M,
    (S.SUBMITTED, S.REJECTED): M,
    (S.SUBMITTED, S.REVISION_REQUESTED): M,
    (S.SUBMITTED, S.WITHDRAWN): A,
    (S.IN_REVIEW, S.AWAITING_DECISION): SYSTEM,  # when every review is in
    (S.IN_REVIEW, S.REVISION_REQUESTED): M,
    (S.IN_REVIEW, S.REJECTED): M,
    (S.IN_REVIEW, S.WITHDRAWN): A,
    (S.AWAITING_DECISION, S.APPROVED): M,
    (S.AWAITING_DECISION, S.REJECTED): M,
    (S.AWAITING_DECISION, S.REVISION_REQUESTED): M,
    (S.AWAITING_DECISION, S.WITHDRAWN): A,
    (S.REVISION_REQUESTED, S.DRAFT): A,
    (S.REVISION_REQUESTED, S.WITHDRAWN): A,
})

TERMINAL = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})
DECIDED = frozenset({S.APPROVED, S.REJECTED})
# Statuses in which the applicant may still withdraw (before a decision).
WITHDRAWABLE = frozenset(src for (src, dst) in APPLICATION_TRANSITIONS if dst == S.WITHDRAWN)


def application_actors(user, application: Application) -> set[Actor]:
    kinds = set()
    if is_applicant_member(user, application):
        kinds.add(Actor.APPLICANT)
    if can_manage(user):
        kinds.add(Actor.MANAGER)
    return kinds


APPLICATION_WORKFLOW = Workflow(
    name="application",
    model=Application,
    states=S,
    transitions=APPLICATION_TRANSITIONS,
    actors=application_actors,
    audit_action=AuditAction.APPLICATION_STATUS_CHANGED,
    terminal=TERMINAL,
    refused=_("An application that is %(current)s cannot become %(target)s."),
)
