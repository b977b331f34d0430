from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="me"),
    path("me/export/", views.PersonalDataExportApi.as_view(), name="me-export"),
    path("organisations/", views.OrganisationsApi.as_view(), name="organisations"),
    path("organisations/<api_id:pk>/", views.OrganisationApi.as_view(), name="organisation-detail"),
    path("organisations/<api_id:pk>/members/", views.MemberListApi.as_view(), name="organisation-members"),
    path("organisations/<api_id:pk>/members/<api_id:membership_pk>/", views.MemberApi.as_view(),
         name="organisation-member"),
    path("organisations/<api_id:pk>/invitations/", views.InvitationsApi.as_view(),
         name="organisation-invitations"),
    path("organisations/<api_id:pk>/invitations/<api_id:invitation_pk>/revoke/", views.InvitationRevokeApi.as_view(),
         name="organisation-invitation-revoke"),
    path("invitations/accept/", views.InvitationAcceptApi.as_view(), name="invitation-accept"),
]
