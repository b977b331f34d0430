from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<int:pk>/invitations/", views.invitation_create, name="invitation_create"),
    path("organisations/<int:pk>/invitations/<int:invitation_pk>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    path("organisations/<int:pk>/members/<int:membership_pk>/role/", views.membership_role, name="membership_role"),
    path("organisations/<int:pk>/members/<int:membership_pk>/remove/", views.membership_remove,
         name="membership_remove"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("me/", views.account, name="account"),
    path("me/notifications/", views.notification_list, name="notifications"),
    path("me/notifications/read/", views.notification_read_all, name="notification_read_all"),
    path("me/notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("me/notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("me/ssh-keys/", views.ssh_keys, name="ssh_keys"),
    path("me/ssh-keys/<int:pk>/remove/", views.ssh_key_remove, name="ssh_key_remove"),
    path("me/tokens/", views.api_tokens, name="api_tokens"),
    path("me/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("me/privacy/", views.privacy_index, name="privacy"),
    path("me/privacy/export/", views.privacy_export, name="privacy_export"),
    path("me/privacy/erase/", views.privacy_erase, name="privacy_erase"),
]
