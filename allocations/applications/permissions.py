"""Who may see and do what with applications and allocations. Shared by views, API and services."""

from accounts.models import Membership
from allocations.applications.models import Application, ApplicationStatus


def is_applicant_member(user, application: Application) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, "_aif_member_orgs", None)
    if cache is None:
        cache = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        user._aif_member_orgs = cache
    return application.organisation_id in cache


def can_edit_application(user, application: Application) -> bool:
    return application.status == ApplicationStatus.DRAFT and is_applicant_member(user, application)
