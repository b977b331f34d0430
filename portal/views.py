from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.roles import is_staff_member, roles_of
from accounts.selectors import organisations_for

from .health import broker_ok, database_ok


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "portal/home.html")


@login_required
def dashboard(request):
    context = {
        "organisations": organisations_for(request.user),
        "roles": roles_of(request.user),
    }
    return render(request, "portal/dashboard.html", context)


@login_required
def staff_home(request):
    # StaffMFARequiredMiddleware only asks staff for a second factor; it does not keep others out.
    if not is_staff_member(request.user):
        raise PermissionDenied
    return render(request, "portal/staff_home.html", {"roles": roles_of(request.user)})


@never_cache
def healthz(request):
    db_up, db_detail = database_ok()
    broker_up, broker_detail = broker_ok()
    status = 200 if db_up and broker_up else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "database": {"ok": db_up, "detail": db_detail},
        "broker": {"ok": broker_up, "detail": broker_detail},
    }
    return JsonResponse(body, status=status)
