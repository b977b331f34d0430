"""The OpenAPI 3 schema (/api/schema/) and its interactive docs (/api/docs/, /api/redoc/).

Public, like the API's documentation should be; Swagger UI and Redoc are served from the
drf-spectacular-sidecar package (SPECTACULAR_SETTINGS), never from a CDN."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

PUBLIC = {"permission_classes": [AllowAny]}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema", **PUBLIC), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema", **PUBLIC), name="api-redoc"),
]
