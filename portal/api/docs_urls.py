"""The OpenAPI 3 schema (/api/schema/) and its interactive docs (/api/docs/).

Public, like the API's documentation should be; Swagger UI is served from the
drf-spectacular-sidecar package (SPECTACULAR_SETTINGS), never from a CDN, and runs under the portal's
Content-Security-Policy: its page (templates/api/swagger_ui.html) has no inline style or script, and
its start-up script is a second request to the same view (the split view).

/api/redoc/ sends people to /api/docs/: Redoc's bundle writes inline <style> elements as it loads,
starts its search in a blob: worker and loads its logo from Redocly's CDN on every visit."""

from django.urls import path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

PUBLIC = {"permission_classes": [AllowAny]}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html",
                                                      **PUBLIC), name="api-docs"),
    path("redoc/", RedirectView.as_view(pattern_name="api-docs", permanent=True), name="api-redoc"),
]
