from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .health import broker_ok, database_ok


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
