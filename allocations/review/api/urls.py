"""/api/v1/ endpoints of the review domain (see docs/api.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("applications/<api_ref:reference>/feedback/", views.FeedbackApi.as_view(), name="application-feedback"),
    path("applications/<api_ref:reference>/reply/", views.ReplyApi.as_view(), name="application-reply"),
    # Reviewers
    path("staff/reviews/", views.AssignmentListApi.as_view(), name="staff-reviews"),
    path("staff/reviews/<api_id:pk>/", views.AssignmentDetailApi.as_view(), name="staff-review-detail"),
    path("staff/reviews/<api_id:pk>/declaration/", views.DeclarationApi.as_view(), name="staff-review-declaration"),
    path("staff/reviews/<api_id:pk>/review/", views.ReviewSubmitApi.as_view(), name="staff-review-submit"),
    # Access committee
    path("staff/deadlines/applications/", views.ApplicationsDueApi.as_view(), name="staff-deadlines-applications"),
    path("staff/deadlines/reviews/", views.AssignmentsOverdueApi.as_view(), name="staff-deadlines-reviews"),
    path("staff/applications/", views.ManagerApplicationListApi.as_view(), name="staff-applications"),
    path("staff/applications/<api_ref:reference>/", views.ManagerApplicationDetailApi.as_view(),
         name="staff-application-detail"),
    path("staff/applications/<api_ref:reference>/eligibility/", views.EligibilityApi.as_view(),
         name="staff-application-eligibility"),
    path("staff/applications/<api_ref:reference>/assignments/", views.AssignReviewerApi.as_view(),
         name="staff-application-assignments"),
    path("staff/applications/<api_ref:reference>/candidates/", views.CandidatesApi.as_view(),
         name="staff-application-candidates"),
    path("staff/applications/<api_ref:reference>/approve/", views.ApproveApi.as_view(),
         name="staff-application-approve"),
    path("staff/applications/<api_ref:reference>/reject/", views.RejectApi.as_view(),
         name="staff-application-reject"),
    path("staff/applications/<api_ref:reference>/request-revision/", views.RevisionApi.as_view(),
         name="staff-application-request-revision"),
]
