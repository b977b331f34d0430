from django.urls import path

from . import views
from .reports import views as reports

app_name = "compliance"

urlpatterns = [
    path("staff/ethics/", views.ethics_queue, name="ethics_queue"),
    # Before the <reference> pattern, which would otherwise take "workspace" for a reference.
    path("staff/ethics/workspace/", views.ethics_workspace, name="ethics_workspace"),
    path("staff/ethics/<str:reference>/", views.ethics_review, name="ethics_review"),
    path("staff/ethics/<str:reference>/conditions/<int:pk>/evidence/", views.condition_evidence_decide,
         name="condition_evidence_decide"),
    path("staff/audit/", views.audit_event_list, name="audit_event_list"),
    # Reports, staff side (MFA-protected like every /staff/ page).
    path("staff/reports/", reports.report_list, name="report_list"),
    path("staff/reports/<int:pk>/", reports.report_detail, name="report_detail"),
    path("staff/reports/<int:pk>/status/", reports.report_status, name="report_status"),
    path("staff/reports/<int:pk>/download/", reports.report_download, name="report_download"),
    path("staff/reports/<int:pk>/csv/", reports.report_csv, name="report_csv"),
    path("staff/reports/dossier/<str:reference>/", reports.staff_dossier, name="staff_dossier"),
    # Reports, applicant side, and verification for any signed-in user.
    path("reports/verify/", reports.verify, name="report_verify"),
    path("reports/dossier/<str:reference>/", reports.applicant_dossier, name="applicant_dossier"),
    path("reports/<int:pk>/", reports.my_report_detail, name="my_report_detail"),
    path("reports/<int:pk>/status/", reports.my_report_status, name="my_report_status"),
    path("reports/<int:pk>/download/", reports.my_report_download, name="my_report_download"),
]
