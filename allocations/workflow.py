"""Application statuses and the table of allowed transitions (written by hand, see STYLE.md)."""

from .models import ApplicationStatus as S

# (from, to) -> the role allowed to make it: "applicant" (a member of the organisation),
# "manager" (allocation manager), "system" (the portal itself, e.g. when all reviews are in).
APPLICATION_TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, S.SUBMITTED): "applicant",
    (S.DRAFT, S.WITHDRAWN): "applicant",
    (S.SUBMITTED, S.IN_REVIEW): "manager",
    (S.SUBMITTED, S.REJECTED): "manager",
    (S.SUBMITTED, S.REVISION_REQUESTED): "manager",
    (S.SUBMITTED, S.WITHDRAWN): "applicant",
    (S.IN_REVIEW, S.AWAITING_DECISION): "system",
    (S.IN_REVIEW, S.REVISION_REQUESTED): "manager",
    (S.IN_REVIEW, S.REJECTED): "manager",
    (S.IN_REVIEW, S.WITHDRAWN): "applicant",
    (S.AWAITING_DECISION, S.APPROVED): "manager",
    (S.AWAITING_DECISION, S.REJECTED): "manager",
    (S.AWAITING_DECISION, S.REVISION_REQUESTED): "manager",
    (S.AWAITING_DECISION, S.WITHDRAWN): "applicant",
    (S.REVISION_REQUESTED, S.DRAFT): "applicant",
    (S.REVISION_REQUESTED, S.WITHDRAWN): "applicant",
}

TERMINAL = {S.APPROVED, S.REJECTED, S.WITHDRAWN}
# Statuses in which the applicant may still withdraw (before a decision).
WITHDRAWABLE = {src for (src, dst), who in APPLICATION_TRANSITIONS.items() if dst == S.WITHDRAWN}


def allowed(src: str, dst: str) -> str | None:
    """The role allowed to move an application from src to dst, or None when not allowed."""
    return APPLICATION_TRANSITIONS.get((src, dst))
