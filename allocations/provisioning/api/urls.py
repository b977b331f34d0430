"""/api/v1/staff/provisioning/ endpoints (see docs/api.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("staff/provisioning/sites/", views.SiteListApi.as_view(), name="staff-provisioning-sites"),
    path("staff/provisioning/sites/<api_code:code>/drift/", views.SiteDriftApi.as_view(),
         name="staff-provisioning-site-drift"),
    path("staff/provisioning/sites/<api_code:code>/reconcile/", views.SiteReconcileApi.as_view(),
         name="staff-provisioning-site-reconcile"),
    path("staff/provisioning/allocations/<api_ref:reference>/rerun/", views.AllocationRerunApi.as_view(),
         name="staff-provisioning-allocation-rerun"),
    path("staff/provisioning/handovers/", views.HandoverListApi.as_view(), name="staff-provisioning-handovers"),
    path("staff/provisioning/handovers/<api_id:pk>/done/", views.HandoverDoneApi.as_view(),
         name="staff-provisioning-handover-done"),
]
