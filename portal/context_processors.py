from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    roles = frozenset()
    if user is not None and user.is_authenticated:
        from accounts.roles import roles_of

        roles = roles_of(user)
    return {"portal_roles": roles, "portal_languages": settings.LANGUAGES}
