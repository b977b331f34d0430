from .roles import roles_of, staff_mfa_missing


def roles(request):
    """The staff roles the signed-in user may exercise now, for the navigation (empty for anyone else),
    and whether they hold staff roles that wait for a second factor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"portal_roles": frozenset(), "portal_staff_needs_mfa": False}
    return {"portal_roles": roles_of(user), "portal_staff_needs_mfa": staff_mfa_missing(user)}
