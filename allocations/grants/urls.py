"""Allocations after a decision: the applicant's pages (quotas, ethics conditions, change requests) and
the managers' pages (allocations, capacity, change requests)."""

from django.urls import path

from . import views

app_name = "grants"

urlpatterns = [
    path("allocations/", views.allocation_list, name="allocation_list"),
    path("allocations/<str:reference>/", views.allocation_detail, name="allocation_detail"),
    path("allocations/<str:reference>/conditions/<int:pk>/acknowledge/", views.condition_ack,
         name="condition_acknowledge"),
    path("allocations/<str:reference>/conditions/<int:pk>/evidence/", views.condition_evidence,
         name="condition_evidence"),
    path("allocations/<str:reference>/team/<int:pk>/resend/", views.team_member_resend, name="team_member_resend"),
    path("allocations/<str:reference>/changes/<slug:kind>/", views.change_request_new, name="change_request_new"),
    path("allocations/<str:reference>/changes/<int:pk>/withdraw/", views.change_request_withdraw,
         name="change_request_withdraw"),
    path("staff/capacity/", views.capacity, name="capacity"),
    path("staff/allocations/", views.staff_allocation_list, name="staff_allocation_list"),
    path("staff/allocations/<str:reference>/", views.staff_allocation_detail, name="staff_allocation_detail"),
    path("staff/change-requests/", views.change_request_list, name="change_request_list"),
    path("staff/change-requests/<int:pk>/decide/", views.change_request_decide, name="change_request_decide"),
]
