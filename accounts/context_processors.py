from functools import cached_property

from .roles import roles_of
from .selectors import unread_notification_count


def roles(request):
    """The staff roles of the signed-in user, for the navigation (empty for anyone else)."""
    user = getattr(request, "user", None)
    return {"portal_roles": roles_of(user) if user is not None else frozenset()}


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
