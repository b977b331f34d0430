"""Allocation statuses: the table of allowed transitions and what the clusters should hold."""

from .models import AllocationStatus as A

# (from, to) -> who may do it: "manager" (allocation manager) or "system" (beat tasks, provisioning).
ALLOCATION_TRANSITIONS: dict[tuple[str, str], str] = {
    (A.APPROVED, A.PROVISIONING): "system",
    (A.PROVISIONING, A.ACTIVE): "system",
    (A.ACTIVE, A.SUSPENDED): "manager",
    (A.SUSPENDED, A.ACTIVE): "manager",
    (A.ACTIVE, A.EXPIRED): "system",
    (A.SUSPENDED, A.EXPIRED): "system",
    (A.APPROVED, A.REVOKED): "manager",
    (A.PROVISIONING, A.REVOKED): "manager",
    (A.ACTIVE, A.REVOKED): "manager",
    (A.SUSPENDED, A.REVOKED): "manager",
}

# Where jobs may run: every other status keeps the account but blocks submission (GrpSubmitJobs=0).
RUNNABLE = {A.PROVISIONING, A.ACTIVE}
TERMINAL = {A.EXPIRED, A.REVOKED}


def allowed(src: str, dst: str) -> str | None:
    return ALLOCATION_TRANSITIONS.get((src, dst))
