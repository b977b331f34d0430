"""View decorators that require a staff role (the MFA middleware and permissions add the second factor)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.roles import Role, has_role


def role_required(role: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


manager_required = role_required(Role.ALLOCATION_MANAGER)
reviewer_required = role_required(Role.REVIEWER)
operator_required = role_required(Role.OPERATOR)
