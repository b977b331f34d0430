"""/api/v1/ endpoints of the grants domain (see docs/api.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("allocations/", views.AllocationListApi.as_view(), name="allocations"),
    path("allocations/<api_ref:reference>/", views.AllocationDetailApi.as_view(), name="allocation-detail"),
    path("allocations/<api_ref:reference>/conditions/<api_id:pk>/acknowledge/",
         views.ConditionAcknowledgeApi.as_view(), name="allocation-condition-acknowledge"),
    path("allocations/<api_ref:reference>/change-requests/", views.ChangeRequestsApi.as_view(),
         name="allocation-change-requests"),
    path("allocations/<api_ref:reference>/change-requests/<api_id:pk>/withdraw/",
         views.ChangeRequestWithdrawApi.as_view(), name="allocation-change-request-withdraw"),
    path("staff/allocations/", views.ManagerAllocationListApi.as_view(), name="staff-allocations"),
    path("staff/allocations/<api_ref:reference>/", views.ManagerAllocationDetailApi.as_view(),
         name="staff-allocation-detail"),
    path("staff/allocations/<api_ref:reference>/suspend/", views.AllocationSuspendApi.as_view(),
         name="staff-allocation-suspend"),
    path("staff/allocations/<api_ref:reference>/resume/", views.AllocationResumeApi.as_view(),
         name="staff-allocation-resume"),
    path("staff/allocations/<api_ref:reference>/revoke/", views.AllocationRevokeApi.as_view(),
         name="staff-allocation-revoke"),
    path("staff/capacity/", views.CapacityApi.as_view(), name="staff-capacity"),
    path("staff/change-requests/", views.ManagerChangeRequestListApi.as_view(), name="staff-change-requests"),
    path("staff/change-requests/<api_id:pk>/decision/", views.ChangeDecisionApi.as_view(),
         name="staff-change-request-decision"),
]
