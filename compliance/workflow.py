"""Ethics reviews: the table of allowed moves (run by portal.workflow).

A review is opened at submission, either pending for an ethics officer or cleared automatically by
the portal's policy (`ethics_review_open`); an ethics officer then decides on a pending one."""

from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from portal.audit import AuditAction
from portal.workflow import Actor, Workflow, table

from .models import EthicsReview
from .models import EthicsStatus as S

E = Actor.ETHICS_OFFICER

ETHICS_TRANSITIONS = table({
    (S.PENDING, S.CLEARED): E,
    (S.PENDING, S.CLEARED_WITH_CONDITIONS): E,
    (S.PENDING, S.REFUSED): E,
})

DECISIONS = frozenset({S.CLEARED, S.CLEARED_WITH_CONDITIONS, S.REFUSED})
NOT_WAITING = _("This application is not waiting for an ethics decision.")


def ethics_actors(user, review: EthicsReview) -> set[Actor]:
    return {Actor.ETHICS_OFFICER} if has_role(user, Role.ETHICS_OFFICER) else set()


ETHICS_WORKFLOW = Workflow(
    name="ethics_review",
    model=EthicsReview,
    states=S,
    transitions=ETHICS_TRANSITIONS,
    actors=ethics_actors,
    audit_action=AuditAction.ETHICS_REVIEW_DECIDED,
    terminal=DECISIONS,
    refused=NOT_WAITING,
    forbidden=_("Only ethics officers decide on ethics reviews."),
)
