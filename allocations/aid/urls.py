"""The organisation's aid declarations (its members) and the aid ledger (staff)."""

from django.urls import path

from . import views

app_name = "aid"

urlpatterns = [
    path("organisations/<int:pk>/aid/", views.organisation_aid, name="organisation_aid"),
    path("organisations/<int:pk>/aid/links/<int:link_pk>/remove/", views.link_remove, name="link_remove"),
    path("staff/aid/", views.ledger, name="ledger"),
    path("staff/aid/register/", views.register_download, name="register_download"),
    path("staff/aid/lines/<int:pk>/correct/", views.line_correct, name="line_correct"),
]
