from django.urls import path

from . import views

app_name = "staff_alloc"

urlpatterns = [
    # Access committee (allocation managers)
    path("applications/", views.application_list, name="application_list"),
    path("applications/<str:reference>/eligibility/", views.application_eligibility,
         name="application_eligibility"),
    path("applications/<str:reference>/reviewers/", views.application_reviewers, name="application_reviewers"),
    path("applications/<str:reference>/decision/", views.application_decision, name="application_decision"),
    path("deadlines/", views.overdue_board, name="overdue"),
    path("capacity/", views.capacity, name="capacity"),
    path("allocations/", views.allocation_list, name="allocation_list"),
    path("allocations/<str:reference>/", views.allocation_detail, name="allocation_detail"),
    path("change-requests/", views.change_request_list, name="change_request_list"),
    path("change-requests/<int:pk>/decide/", views.change_request_decide, name="change_request_decide"),
    # Reviewers
    path("reviews/", views.assignment_list, name="assignment_list"),
    path("reviews/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path("reviews/<int:pk>/declare/", views.assignment_declare, name="assignment_declare"),
]
