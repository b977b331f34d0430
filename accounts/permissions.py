"""Object-level rules on organisations, shared by HTML views, the API and services."""

from .models import Membership, MembershipRole


def membership_of(user, organisation) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def is_member(user, organisation) -> bool:
    return membership_of(user, organisation) is not None


def is_owner(user, organisation) -> bool:
    membership = membership_of(user, organisation)
    return membership is not None and membership.role == MembershipRole.OWNER
