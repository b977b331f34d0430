from django.urls import path

from . import reports, views

urlpatterns = [
    path("staff/ethics/reviews/", views.EthicsReviewListApi.as_view(), name="staff-ethics-reviews"),
    path("staff/ethics/reviews/<api_ref:reference>/", views.EthicsReviewDetailApi.as_view(),
         name="staff-ethics-review-detail"),
    path("staff/ethics/reviews/<api_ref:reference>/decision/", views.EthicsDecisionApi.as_view(),
         name="staff-ethics-decision"),
    path("staff/ethics/workspace/", views.EthicsWorkspaceApi.as_view(), name="staff-ethics-workspace"),
    path("staff/audit-events/", views.AuditEventListApi.as_view(), name="staff-audit-events"),
    # Reports
    path("staff/reports/", reports.StaffReportsApi.as_view(), name="staff-reports"),
    path("staff/reports/<api_id:pk>/", reports.StaffReportDetailApi.as_view(), name="staff-report-detail"),
    path("staff/reports/<api_id:pk>/download/", reports.StaffReportDownloadApi.as_view(),
         name="staff-report-download"),
    path("staff/reports/<api_id:pk>/csv/", reports.StaffReportCsvApi.as_view(), name="staff-report-csv"),
    path("staff/applications/<api_ref:reference>/dossier/", reports.StaffDossierRequestApi.as_view(),
         name="staff-application-dossier"),
    path("reports/", reports.MyReportListApi.as_view(), name="reports"),
    path("reports/verify/", reports.ReportVerifyApi.as_view(), name="report-verify"),
    path("reports/<api_id:pk>/", reports.MyReportDetailApi.as_view(), name="report-detail"),
    path("reports/<api_id:pk>/download/", reports.MyReportDownloadApi.as_view(), name="report-download"),
    path("applications/<api_ref:reference>/dossier/", reports.DossierRequestApi.as_view(),
         name="application-dossier"),
]
