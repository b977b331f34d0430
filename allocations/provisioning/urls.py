"""The operator's provisioning pages: Slurm sync per site, desired vs actual, re-runs, hand-overs."""

from django.urls import path

from . import views

app_name = "provisioning"

urlpatterns = [
    path("staff/provisioning/", views.overview, name="overview"),
    path("staff/provisioning/sites/<slug:code>/", views.site_detail, name="site_detail"),
    path("staff/provisioning/sites/<slug:code>/reconcile/", views.rerun_site, name="rerun_site"),
    path("staff/provisioning/sites/<slug:code>/refresh/", views.refresh_site, name="refresh_site"),
    path("staff/provisioning/allocations/<str:reference>/rerun/", views.rerun_allocation, name="rerun_allocation"),
    path("staff/provisioning/handovers/<int:pk>/done/", views.handover_mark_done, name="handover_done"),
]
