"""The second factor of staff, on every request.

1. Binds to ``request.user`` whether this session's sign-in passed a second factor: staff roles, and
   with them every staff permission of the HTML views, the API, services and selectors, hold only then
   (accounts.roles.roles_of). This is the rule; the rest of this module is a courtesy.
2. On staff paths (the Django admin, /staff/, the staff API) a staff member whose sign-in lacks the
   second factor is sent where they can give it: to set up an authenticator, or to confirm with the
   one they have. Elsewhere they simply act as the applicant they also are."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.middleware import get_user
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .mfa import bind_mfa_state, has_mfa, session_passed_mfa
from .roles import staff_mfa_missing

# Paths that serve staff work: the Django admin and every page under /staff/.
STAFF_PREFIXES = ("/admin/", "/staff/", "/api/v1/staff/")


def _user_with_mfa_state(request):
    user = get_user(request)
    if user.is_authenticated:
        bind_mfa_state(user, session_passed_mfa(request, user))
    return user


class StaffMFARequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # As lazy as AuthenticationMiddleware's: the session is read when something asks for the user.
        request.user = SimpleLazyObject(lambda: _user_with_mfa_state(request))
        path = request.path_info
        if settings.AIF_REQUIRE_MFA_FOR_STAFF and path.startswith(STAFF_PREFIXES):
            user = request.user
            if user.is_authenticated and staff_mfa_missing(user):
                return self._ask_for_second_factor(request, user, path)
        return self.get_response(request)

    @staticmethod
    def _ask_for_second_factor(request, user, path):
        enrolled = has_mfa(user)
        if path.startswith("/api/"):
            message = _("Staff work requires multi-factor authentication. Sign in with your second factor "
                        "first.") if enrolled else _(
                "Staff work requires multi-factor authentication. Add an authenticator first.")
            return JsonResponse({"error": {"code": "mfa_required", "message": message}}, status=403)
        if enrolled:
            messages.warning(request, _("Confirm it is you with your second factor to open staff pages."))
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        messages.warning(request, _("Staff pages require multi-factor authentication. "
                                    "Add an authenticator app or a security key to continue."))
        return redirect("mfa_index")
