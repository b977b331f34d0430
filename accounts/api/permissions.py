"""Permission classes shared by every API endpoint: token scopes, staff roles and the second factor."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken, ApiTokenScope
from accounts.roles import Role, has_role, is_superuser, staff_mfa_missing

MFA_MESSAGE = _("Staff work requires multi-factor authentication. Add an authenticator first.")


class TokenScope(BasePermission):
    """Reads need the token's "read" scope, writes its "write" scope. Session requests pass."""

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = ApiTokenScope.READ if request.method in SAFE_METHODS else ApiTokenScope.WRITE
        if not token.has_scope(needed):
            raise exceptions.PermissionDenied(_("This token does not have the %(scope)s scope.") % {"scope": needed},
                            "insufficient_scope")
        return True


class StaffTokenMFA(BasePermission):
    """A token skips the sign-in, and with it the second factor: a staff member's token works only
    while they have an authenticator (TOTP or security key), on every endpoint."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiToken) and settings.AIF_REQUIRE_MFA_FOR_STAFF \
                and staff_mfa_missing(request.user):
            raise exceptions.PermissionDenied(MFA_MESSAGE, "mfa_required")
        return True


class StaffMFA(BasePermission):
    """For /api/v1/staff/: a staff member whose sign-in (or token) lacks the second factor gets a clear
    403 instead of the role's bare refusal (without the factor they hold no role: accounts.roles)."""

    def has_permission(self, request, view):
        if settings.AIF_REQUIRE_MFA_FOR_STAFF and staff_mfa_missing(request.user):
            raise exceptions.PermissionDenied(MFA_MESSAGE, "mfa_required")
        return True


def role_permission(role: str) -> type[BasePermission]:
    class HasRole(BasePermission):
        message = _("Your role does not allow this.")

        def has_permission(self, request, view):
            return has_role(request.user, role)

    HasRole.__name__ = f"Has{role.title().replace('_', '')}Role"
    return HasRole


IsReviewer = role_permission(Role.REVIEWER)
IsAllocationManager = role_permission(Role.ALLOCATION_MANAGER)
IsEthicsOfficer = role_permission(Role.ETHICS_OFFICER)
IsOperator = role_permission(Role.OPERATOR)


class IsAuditReader(BasePermission):
    """The audit trail: ethics officers and administrators (superusers) only."""

    message = _("Only ethics officers and administrators read the audit trail.")

    def has_permission(self, request, view):
        return has_role(request.user, Role.ETHICS_OFFICER) or is_superuser(request.user)


# The defaults of every endpoint (settings.REST_FRAMEWORK); staff endpoints add StaffMFA and a role.
DEFAULT_PERMISSIONS = ["rest_framework.permissions.IsAuthenticated", "accounts.api.permissions.TokenScope",
                       "accounts.api.permissions.StaffTokenMFA"]
