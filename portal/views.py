from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

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
