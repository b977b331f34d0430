"""/api/v1/ endpoints of the applications domain (see docs/api.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("applications/", views.ApplicationsApi.as_view(), name="applications"),
    path("applications/<api_ref:reference>/", views.ApplicationDetailApi.as_view(), name="application-detail"),
    path("applications/<api_ref:reference>/project/", views.ProjectStepApi.as_view(), name="application-project"),
    path("applications/<api_ref:reference>/resources/", views.ResourcesStepApi.as_view(),
         name="application-resources"),
    path("applications/<api_ref:reference>/model/", views.ModelStepApi.as_view(), name="application-model"),
    path("applications/<api_ref:reference>/ethics-issues/", views.EthicsIssuesApi.as_view(),
         name="application-ethics-issues"),
    path("applications/<api_ref:reference>/team/", views.TeamMemberAddApi.as_view(), name="application-team"),
    path("applications/<api_ref:reference>/team/<api_id:pk>/", views.TeamMemberRemoveApi.as_view(),
         name="application-team-member"),
    path("team/confirm/", views.TeamConfirmApi.as_view(), name="team-confirm"),
    path("applications/<api_ref:reference>/attachments/", views.AttachmentUploadApi.as_view(),
         name="application-attachments"),
    path("applications/<api_ref:reference>/attachments/<api_id:pk>/", views.AttachmentApi.as_view(),
         name="application-attachment"),
    path("applications/<api_ref:reference>/problems/", views.SubmissionCheckApi.as_view(),
         name="application-problems"),
    path("applications/<api_ref:reference>/declaration/", views.DeclarationApi.as_view(),
         name="application-declaration"),
    path("applications/<api_ref:reference>/submit/", views.SubmitApi.as_view(), name="application-submit"),
    path("applications/<api_ref:reference>/withdraw/", views.WithdrawApi.as_view(), name="application-withdraw"),
    path("applications/<api_ref:reference>/reopen/", views.ReopenApi.as_view(), name="application-reopen"),
    path("applications/<api_ref:reference>/ai-act/questionnaire/", views.QuestionnaireApi.as_view(),
         name="ai-act-questionnaire"),
    path("applications/<api_ref:reference>/ai-act/answers/", views.AnswersApi.as_view(), name="ai-act-answers"),
    path("applications/<api_ref:reference>/ai-act/result/", views.ResultApi.as_view(), name="ai-act-result"),
]
