"""/healthz: 200 when the database and the broker answer, 503 when either is down."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": client_vendor()}
    assert body["broker"]["ok"] is True
    assert "no-cache" in response["Cache-Control"]


def client_vendor():
    from django.db import connection

    return connection.vendor


def test_healthz_ok_against_redis(client, redis_server):
    with override_settings(CELERY_BROKER_URL=redis_server, CELERY_BROKER_TRANSPORT_OPTIONS={}):
        response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json()["broker"] == {"ok": True, "detail": "redis"}


def test_healthz_503_when_the_broker_is_down(client):
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER, CELERY_BROKER_TRANSPORT_OPTIONS={}):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"] == "OperationalError"
    assert body["database"]["ok"] is True
    # Back on the configured broker, the next call is healthy again (nothing was cached).
    assert client.get("/healthz").status_code == 200


def test_healthz_503_when_the_database_is_down(client):
    """The database is cut at the boundary: the cursor the check opens raises the driver's error."""

    class DeadConnection:
        vendor = "postgresql"

        def cursor(self):
            raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    with mock.patch("portal.health.connection", DeadConnection()):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["broker"]["ok"] is True
