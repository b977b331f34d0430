"""Review assignments: the table of allowed moves (run by portal.workflow)."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import can_manage
from portal.audit import AuditAction
from portal.workflow import Actor, Workflow, table

from .models import AssignmentStatus as S
from .models import ReviewAssignment

R, M = Actor.REVIEWER, Actor.MANAGER

ASSIGNMENT_TRANSITIONS = table({
    # The reviewer declares before reading the application's content...
    (S.ASSIGNED, S.ACCEPTED): R,
    (S.ASSIGNED, S.CONFLICTED): R,
    # ...and reviews only after declaring no conflict.
    (S.ACCEPTED, S.SUBMITTED): R,
    # The manager takes back an assignment not yet reviewed.
    (S.ASSIGNED, S.CANCELLED): M,
    (S.ACCEPTED, S.CANCELLED): M,
})

OPEN = frozenset({S.ASSIGNED, S.ACCEPTED})
DECLARED = _("You already made your declaration.")


def assignment_actors(user, assignment: ReviewAssignment) -> set[Actor]:
    kinds = set()
    if getattr(user, "pk", None) is not None and assignment.reviewer_id == user.pk:
        kinds.add(Actor.REVIEWER)
    if can_manage(user):
        kinds.add(Actor.MANAGER)
    return kinds


ASSIGNMENT_WORKFLOW = Workflow(
    name="review_assignment",
    model=ReviewAssignment,
    states=S,
    transitions=ASSIGNMENT_TRANSITIONS,
    actors=assignment_actors,
    audit_action=AuditAction.REVIEW_ASSIGNMENT_CHANGED,
    terminal=frozenset({S.CONFLICTED, S.SUBMITTED, S.CANCELLED}),
    refused=_("A review assignment that is %(current)s cannot become %(target)s."),
    forbidden=_("This assignment is not yours."),
    refusals={
        (S.ASSIGNED, S.SUBMITTED): _("Declare that you have no conflict of interest before reviewing."),
        (S.ACCEPTED, S.CONFLICTED): DECLARED,
        (S.CONFLICTED, S.ACCEPTED): DECLARED,
        (S.SUBMITTED, S.ACCEPTED): DECLARED,
        (S.SUBMITTED, S.CONFLICTED): DECLARED,
        (S.CONFLICTED, S.SUBMITTED): _("This review cannot be submitted."),
        (S.CANCELLED, None): _("This assignment was cancelled."),
    },
)
