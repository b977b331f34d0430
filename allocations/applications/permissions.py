"""Who may see and do what with applications and allocations. Shared by views, API and services."""

from accounts.permissions import is_member_of
from allocations.applications.models import Application, ApplicationStatus


def is_applicant_member(user, application: Application) -> bool:
    return is_member_of(user, application.organisation_id)


def can_edit_application(user, application: Application) -> bool:
    return application.status == ApplicationStatus.DRAFT and is_applicant_member(user, application)
