from functools import cached_property

from .roles import roles_of, staff_mfa_missing
from .selectors import unread_notification_count


def roles(request):
    """The staff roles the signed-in user may exercise now, for the navigation (empty for anyone else),
    and whether they hold staff roles that wait for a second factor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"portal_roles": frozenset(), "portal_staff_needs_mfa": False}
    return {"portal_roles": roles_of(user), "portal_staff_needs_mfa": staff_mfa_missing(user)}


class UnreadNotifications:
    """The count is read once, when a template first asks for it (pages without the header pay nothing)."""

    def __init__(self, user):
        self._user = user

    @cached_property
    def count(self) -> int:
        return unread_notification_count(self._user)


def notifications(request):
    """The header's count of unread notifications (`unread_notifications.count`): one query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": UnreadNotifications(user)}
