from .roles import roles_of


def roles(request):
    """The staff roles of the signed-in user, for the navigation (empty for anyone else)."""
    user = getattr(request, "user", None)
    return {"portal_roles": roles_of(user) if user is not None else frozenset()}
