from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

# The root URLconf composes every app (Django resolves all URLs from this one module): it is the one
# place in the core that imports an app built on it.
from accounts.views import dashboard, staff_home
from allocations.catalogue.views import home  # the front door presents the access modes

from . import views

admin.site.site_header = "AI Factory portal"
admin.site.site_title = "AI Factory portal administration"

urlpatterns = [
    path("", home, name="home"),
    path("dashboard/", dashboard, name="dashboard"),
    path("staff/", staff_home, name="staff_home"),
    path("healthz", views.healthz, name="healthz"),
    path("contact/", views.contact, name="contact"),
    path("legal-notice/", views.legal_notice, name="legal_notice"),
    path("privacy-notice/", views.privacy_notice, name="privacy_notice"),
    path("accessibility/", views.accessibility_statement, name="accessibility_statement"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("allocations.applications.urls")),
    path("", include("allocations.review.urls")),
    path("", include("allocations.grants.urls")),
    path("", include("allocations.outcomes.urls")),
    path("", include("allocations.provisioning.urls")),
    path("", include("allocations.terms.urls")),
    path("", include("allocations.aid.urls")),
    path("", include("compliance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api_urls")),
    path("api/", include("portal.api.docs_urls")),
]


handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
