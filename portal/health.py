"""Liveness of the services the portal depends on."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from .celery import app


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # any driver error means "down" here
        return False, type(exc).__name__


def broker_ok(timeout: float = 2.0) -> tuple[bool, str]:
    # Read the settings on every call: the Celery app froze its configuration when it was first
    # used, so `app.connection_for_write()` alone could check a broker other than the configured one.
    url = settings.CELERY_BROKER_URL
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    try:
        with app.connection_for_write(url=url, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True, url.split("://", 1)[0]
    except Exception as exc:  # kombu raises transport-specific errors
        return False, type(exc).__name__
