"""Object-level rules on organisations, shared by HTML views, the API and services."""

from .models import Membership, MembershipRole
from .roles import Role, has_role, roles_of


def membership_of(user, organisation) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def is_member(user, organisation) -> bool:
    return membership_of(user, organisation) is not None


def is_member_of(user, organisation_id: int) -> bool:
    """Whether the user belongs to the organisation; their organisations are read once per user object."""
    if not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, "_aif_member_orgs", None)
    if cache is None:
        cache = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        user._aif_member_orgs = cache
    return organisation_id in cache


def is_owner(user, organisation) -> bool:
    membership = membership_of(user, organisation)
    return membership is not None and membership.role == MembershipRole.OWNER


# Staff roles that see every submitted application (never another organisation's draft; reviewers only
# see what they are assigned).
OVERSIGHT_ROLES = {Role.ALLOCATION_MANAGER, Role.ETHICS_OFFICER, Role.OPERATOR}


def has_oversight(user) -> bool:
    return bool(roles_of(user) & OVERSIGHT_ROLES)


def can_manage(user) -> bool:
    return has_role(user, Role.ALLOCATION_MANAGER)


def can_review_ethics(user) -> bool:
    return has_role(user, Role.ETHICS_OFFICER)


def is_operator(user) -> bool:
    return has_role(user, Role.OPERATOR)
