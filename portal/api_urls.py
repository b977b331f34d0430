"""The REST API, mounted at /api/v1/. Staff endpoints live under /api/v1/staff/, where the MFA
middleware (sessions) and accounts.api.permissions.StaffMFA (every authentication) apply."""

from django.urls import include, path, re_path

from portal.api import converters
from portal.api.errors import not_found

converters.register()

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("allocations.applications.api.urls")),
    path("", include("allocations.review.api.urls")),
    path("", include("allocations.grants.api.urls")),
    path("", include("allocations.provisioning.api.urls")),
    path("", include("allocations.aid.api.urls")),
    path("", include("compliance.api.urls")),
    re_path(r"^.*$", not_found),
]
