"""Eligibility, reviewer assignment, reviews, decisions (staff) and the review feedback (applicant)."""

from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("applications/<str:reference>/feedback/", views.application_feedback, name="application_feedback"),
    # Access committee (allocation managers)
    path("staff/applications/", views.application_list, name="application_list"),
    path("staff/applications/<str:reference>/eligibility/", views.application_eligibility,
         name="application_eligibility"),
    path("staff/applications/<str:reference>/reviewers/", views.application_reviewers, name="application_reviewers"),
    path("staff/applications/<str:reference>/decision/", views.application_decision, name="application_decision"),
    path("staff/deadlines/", views.overdue_board, name="overdue"),
    # Reviewers
    path("staff/reviews/", views.assignment_list, name="assignment_list"),
    path("staff/reviews/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path("staff/reviews/<int:pk>/declare/", views.assignment_declare, name="assignment_declare"),
]
