from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from .api.errors import error_body
from .health import broker_ok, database_ok
from .operator import operator


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


# --------------------------------------------------------------------------------- public notices
# Linked from every page's footer, readable without an account. The texts are in the templates; who
# runs the service and how to reach them comes from the settings (portal.operator).


def _notice(template: str):
    def view(request):
        return render(request, f"portal/public/{template}.html", {"operator": operator()})

    view.__name__ = template
    view.__doc__ = f"The {template.replace('_', ' ')} (public)."
    return view


contact = _notice("contact")
legal_notice = _notice("legal_notice")
privacy_notice = _notice("privacy_notice")
accessibility_statement = _notice("accessibility_statement")


# --------------------------------------------------------------------------------- error pages
# In the portal's layout, each saying what happened and what to do. The 400 and 500 pages are rendered
# without the request's context processors (one of them may be what failed): their context comes from
# the settings only, and they never touch the database.


def _error_context(status: int) -> dict:
    return {"status": status, "operator": operator(), "portal_operator_name": operator().name}


def bad_request(request, exception=None):
    return _render_error(request, 400, with_request=False)


def permission_denied(request, exception=None):
    return _render_error(request, 403, with_request=True)


def page_not_found(request, exception=None):
    return _render_error(request, 404, with_request=True)


def server_error(request):
    return _render_error(request, 500, with_request=False)


def csrf_failure(request, reason=""):
    """A form sent from a page that has expired (or with cookies refused): say how to send it again."""
    return _render_error(request, 403, with_request=True, template="403_csrf.html")


#: A program calling the API reads errors in the API's JSON shape (docs/api.md), not a page.
API_ERRORS = {
    400: ("bad_request", _("The request could not be read.")),
    403: ("permission_denied", _("You do not have permission to perform this action.")),
    404: ("not_found", _("Not found.")),
    500: ("server_error", _("Something went wrong on our side. Try again in a few minutes.")),
}


def _render_error(request, status: int, *, with_request: bool, template: str | None = None):
    if request.path.startswith("/api/"):
        code, message = API_ERRORS[status]
        return JsonResponse(error_body(code, message), status=status)
    name = template or f"{status}.html"
    context = _error_context(status)
    if with_request:
        return render(request, name, context, status=status)
    return HttpResponse(loader.get_template(name).render(context), status=status)
