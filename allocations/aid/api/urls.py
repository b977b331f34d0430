"""/api/v1/ endpoints of the aid ledger (see docs/api.md and docs/aid.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("staff/aid/register/", views.AidRegisterApi.as_view(), name="staff-aid-register"),
]
