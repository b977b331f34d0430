"""Who may see and do what with applications and allocations. Shared by views, API and services."""

from accounts.models import Membership
from accounts.roles import Role, has_role, roles_of

from .models import Application, ApplicationStatus, AssignmentStatus, ReviewAssignment

# Staff roles that see every application (reviewers only see what they are assigned).
OVERSIGHT_ROLES = {Role.ALLOCATION_MANAGER, Role.ETHICS_OFFICER, Role.OPERATOR}


def is_applicant_member(user, application: Application) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, "_aif_member_orgs", None)
    if cache is None:
        cache = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        user._aif_member_orgs = cache
    return application.organisation_id in cache


def has_oversight(user) -> bool:
    return bool(roles_of(user) & OVERSIGHT_ROLES)


def can_edit_application(user, application: Application) -> bool:
    return application.status == ApplicationStatus.DRAFT and is_applicant_member(user, application)


def can_manage(user) -> bool:
    return has_role(user, Role.ALLOCATION_MANAGER)


def can_review_ethics(user) -> bool:
    return has_role(user, Role.ETHICS_OFFICER)


def can_read_assignment_content(assignment: ReviewAssignment) -> bool:
    """A reviewer reads the application's content only after declaring no conflict of interest;
    before that (or after declaring one) only its reference and organisation."""
    return assignment.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)
