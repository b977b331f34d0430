"""Who may see and do what with applications and allocations. Shared by views, API and services."""

from accounts.permissions import can_manage, can_review_ethics, is_member_of
from accounts.roles import Role, has_role
from allocations.applications.models import Application, ApplicationStatus
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsReview, EthicsStatus


def is_applicant_member(user, application: Application) -> bool:
    return is_member_of(user, application.organisation_id)


def can_edit_application(user, application: Application) -> bool:
    return application.status == ApplicationStatus.DRAFT and is_applicant_member(user, application)


# ------------------------------------------------------------------------------------- attachments

# The grounds on which someone reads an application's documents: recorded with every read by staff.
MEMBER = "member"
# A reviewer reads the documents once they declared no conflict of interest (and after reviewing).
REVIEWER_READS = (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)
# An ethics officer reads them while the ethics review waits for a decision and after an officer decided;
# never for a review the portal cleared automatically, which no officer examines.
ETHICS_READS = (EthicsStatus.PENDING, EthicsStatus.CLEARED, EthicsStatus.CLEARED_WITH_CONDITIONS,
                EthicsStatus.REFUSED)


def _before_staff(application: Application) -> bool:
    """A draft (new, or back for revision) and one withdrawn before submission are the organisation's alone."""
    return application.status == ApplicationStatus.DRAFT or application.submitted_at is None


def attachment_access(user, application: Application) -> str | None:
    """The one rule for reading an application's attachments, on the pages and through the API alike.

    Returns the ground on which `user` may read them, or None:
    - "member": a member of the applying organisation, in every status;
    - the allocation manager, once the application was submitted and is not a draft again;
    - an ethics officer, while the ethics review is pending or once an officer decided it;
    - a reviewer assigned to the application, once they declared no conflict of interest (never a
      reviewer who declared one, nor before the declaration).
    Staff roles come from `accounts.roles` (`can_manage`, `can_review_ethics`, `has_role`)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if is_applicant_member(user, application):
        return MEMBER
    if _before_staff(application):
        return None
    if can_manage(user):
        return Role.ALLOCATION_MANAGER
    if can_review_ethics(user) and EthicsReview.objects.filter(
            application_id=application.pk, status__in=ETHICS_READS).exists():
        return Role.ETHICS_OFFICER
    if has_role(user, Role.REVIEWER) and ReviewAssignment.objects.filter(
            application_id=application.pk, reviewer_id=user.pk, status__in=REVIEWER_READS).exists():
        return Role.REVIEWER
    return None


def can_read_attachments(user, application: Application) -> bool:
    return attachment_access(user, application) is not None
