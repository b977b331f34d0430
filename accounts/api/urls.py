from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="me"),
    path("organisations/", views.OrganisationsApi.as_view(), name="organisations"),
    path("organisations/<api_id:pk>/", views.OrganisationDetailApi.as_view(), name="organisation-detail"),
    path("organisations/<api_id:pk>/members/", views.MemberListApi.as_view(), name="organisation-members"),
    path("organisations/<api_id:pk>/invitations/", views.InvitationCreateApi.as_view(),
         name="organisation-invitations"),
]
