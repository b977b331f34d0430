"""Liveness of the services the portal depends on."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # any driver error means "down" here
        return False, type(exc).__name__


def broker_ok(timeout: float = 2.0) -> tuple[bool, str]:
    from .celery import app

    url = settings.CELERY_BROKER_URL
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True, url.split("://", 1)[0]
    except Exception as exc:  # kombu raises transport-specific errors
        return False, type(exc).__name__
