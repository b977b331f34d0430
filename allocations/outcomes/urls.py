"""The final report and outputs of an allocation (the organisation's pages) and the managers' list,
review and exceptions."""

from django.urls import path

from . import views

app_name = "outcomes"

urlpatterns = [
    path("allocations/<str:reference>/final-report/", views.final_report, name="final_report"),
    path("allocations/<str:reference>/outputs/", views.outputs, name="outputs"),
    path("allocations/<str:reference>/outputs/<int:pk>/remove/", views.output_remove, name="output_remove"),
    path("staff/final-reports/", views.staff_final_report_list, name="staff_final_report_list"),
    path("staff/final-reports/<str:reference>/", views.staff_final_report, name="staff_final_report"),
    path("staff/final-reports/<str:reference>/exception/", views.staff_override, name="staff_override"),
]
