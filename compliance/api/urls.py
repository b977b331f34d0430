from django.urls import path

from . import views

urlpatterns = [
    path("staff/ethics/reviews/", views.EthicsReviewListApi.as_view(), name="staff-ethics-reviews"),
    path("staff/ethics/reviews/<api_ref:reference>/decision/", views.EthicsDecisionApi.as_view(),
         name="staff-ethics-decision"),
    path("staff/audit-events/", views.AuditEventListApi.as_view(), name="staff-audit-events"),
]
