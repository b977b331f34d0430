"""Ethics reviews: the table of allowed moves (run by portal.workflow).

A review is opened at submission, either pending for an ethics officer or cleared automatically by
the portal's policy (`ethics_review_open`); an ethics officer then decides on a pending one."""

from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from portal.audit import AuditAction
from portal.workflow import Actor, Workflow, table

from .models import EthicsReview, Report, ReportStatus
from .models import EthicsStatus as S

E = Actor.ETHICS_OFFICER

ETHICS_TRANSITIONS = table({
    # At a resubmission, by the portal's policy (the triggers changed).
    (S.PENDING, S.AUTO_CLEARED): Actor.SYSTEM,
    (S.AUTO_CLEARED, S.PENDING): Actor.SYSTEM,
    # An ethics officer decides on a pending review.
    (S.PENDING, S.CLEARED): E,
    (S.PENDING, S.CLEARED_WITH_CONDITIONS): E,
    (S.PENDING, S.REFUSED): E,
})

DECISIONS = frozenset({S.CLEARED, S.CLEARED_WITH_CONDITIONS, S.REFUSED})
# The outcomes after which the committee may decide (approval_blockers).
CLEARED = frozenset({S.AUTO_CLEARED, S.CLEARED, S.CLEARED_WITH_CONDITIONS})
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


# Reports are moved by the portal alone: queued at the request, running on a worker, done or failed.
# A failed report runs again when its task retries; a late attempt may still finish one marked failed.
R = ReportStatus
REPORT_TRANSITIONS = table({
    (R.QUEUED, R.RUNNING): Actor.SYSTEM,
    (R.FAILED, R.RUNNING): Actor.SYSTEM,
    (R.RUNNING, R.DONE): Actor.SYSTEM,
    (R.FAILED, R.DONE): Actor.SYSTEM,
    (R.QUEUED, R.FAILED): Actor.SYSTEM,
    (R.RUNNING, R.FAILED): Actor.SYSTEM,
})

REPORT_WORKFLOW = Workflow(
    name="report",
    model=Report,
    states=R,
    transitions=REPORT_TRANSITIONS,
    actors=lambda user, report: set(),
    audit_action=AuditAction.REPORT_GENERATED,
    terminal=frozenset({R.DONE}),
    refused=_("A report that is %(current)s cannot become %(target)s."),
    unaudited=frozenset({(R.QUEUED, R.RUNNING), (R.FAILED, R.RUNNING)}),
)
