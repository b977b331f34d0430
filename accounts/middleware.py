"""Staff pages require multi-factor authentication, enforced on the server for every request."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .mfa import staff_mfa_missing

# Paths that serve staff work: the Django admin and every page under /staff/.
STAFF_PREFIXES = ("/admin/", "/staff/", "/api/v1/staff/")


class StaffMFARequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if settings.AIF_REQUIRE_MFA_FOR_STAFF and path.startswith(STAFF_PREFIXES):
            user = request.user
            if user.is_authenticated and staff_mfa_missing(user):
                if path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse({"error": {"code": "mfa_required", "message": _(
                        "Staff work requires multi-factor authentication. Add an authenticator first.")}},
                        status=403)
                messages.warning(request, _("Staff pages require multi-factor authentication. "
                                            "Add an authenticator app or a security key to continue."))
                return redirect("mfa_index")
        return self.get_response(request)
