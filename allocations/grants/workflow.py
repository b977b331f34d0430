"""Allocation and change-request statuses: the tables of allowed moves (run by portal.workflow), and
what the clusters should hold in each allocation status."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import can_manage, is_member_of
from portal.audit import AuditAction
from portal.workflow import Actor, Workflow, table

from .models import Allocation, ChangeRequest
from .models import AllocationStatus as A
from .models import ChangeStatus as C

M, SYSTEM = Actor.MANAGER, Actor.SYSTEM
# Moves the portal makes itself (beat tasks, provisioning read-back); a manager may force them too.
AUTOMATIC = (SYSTEM, M)

ALLOCATION_TRANSITIONS = table({
    (A.APPROVED, A.PROVISIONING): AUTOMATIC,
    (A.PROVISIONING, A.ACTIVE): AUTOMATIC,
    (A.ACTIVE, A.SUSPENDED): M,
    (A.SUSPENDED, A.ACTIVE): M,
    (A.ACTIVE, A.EXPIRED): AUTOMATIC,
    (A.SUSPENDED, A.EXPIRED): AUTOMATIC,
    (A.APPROVED, A.REVOKED): M,
    (A.PROVISIONING, A.REVOKED): M,
    (A.ACTIVE, A.REVOKED): M,
    (A.SUSPENDED, A.REVOKED): M,
})

# Where jobs may run: every other status keeps the account but blocks it (no job submitted, none started).
RUNNABLE = frozenset({A.PROVISIONING, A.ACTIVE})
TERMINAL = frozenset({A.EXPIRED, A.REVOKED})
# What happens to the jobs already queued or running, by status (provisioning.services acts on it):
# suspension holds pending jobs (released on resumption); revocation and expiry cancel pending jobs and,
# per the site's policy, running ones; before the start there can be no job.
JOBS_RUN, JOBS_HELD, JOBS_ENDED, NO_JOBS_YET = "run", "held", "ended", "none"
JOB_POLICY = {A.APPROVED: NO_JOBS_YET, A.PROVISIONING: JOBS_RUN, A.ACTIVE: JOBS_RUN, A.SUSPENDED: JOBS_HELD,
              A.EXPIRED: JOBS_ENDED, A.REVOKED: JOBS_ENDED}
# Moves that need a reason, shown to the organisation and kept in the audit trail.
NEEDS_REASON = frozenset({A.SUSPENDED, A.REVOKED})
# The allocation can still be changed (extension, top-up, members) in these statuses.
CHANGEABLE = frozenset({A.APPROVED, A.PROVISIONING, A.ACTIVE, A.SUSPENDED})


def _manager(user, obj) -> set[Actor]:
    return {Actor.MANAGER} if can_manage(user) else set()


ALLOCATION_WORKFLOW = Workflow(
    name="allocation",
    model=Allocation,
    states=A,
    transitions=ALLOCATION_TRANSITIONS,
    actors=_manager,
    audit_action=AuditAction.ALLOCATION_STATUS_CHANGED,
    terminal=TERMINAL,
    refused=_("An allocation that is %(current)s cannot become %(target)s."),
    forbidden=_("Only allocation managers can change an allocation's state."),
)


CHANGE_REQUEST_TRANSITIONS = table({
    (C.SUBMITTED, C.APPROVED): M,
    (C.SUBMITTED, C.REJECTED): M,
    (C.SUBMITTED, C.WITHDRAWN): Actor.APPLICANT,
})


def change_request_actors(user, change_request: ChangeRequest) -> set[Actor]:
    kinds = _manager(user, change_request)
    if is_member_of(user, change_request.allocation.organisation_id):
        kinds.add(Actor.APPLICANT)
    return kinds


CHANGE_REQUEST_WORKFLOW = Workflow(
    name="change_request",
    model=ChangeRequest,
    states=C,
    transitions=CHANGE_REQUEST_TRANSITIONS,
    actors=change_request_actors,
    audit_action=AuditAction.CHANGE_REQUEST_DECIDED,
    terminal=frozenset({C.APPROVED, C.REJECTED, C.WITHDRAWN}),
    refused=_("A change request that is %(current)s cannot become %(target)s."),
    forbidden=_("Only allocation managers decide on changes."),
)
