"""Terms of use: the person's page to accept them, and the operator's pages to publish and follow them."""

from django.urls import path

from . import views

app_name = "terms"

urlpatterns = [
    path("terms/", views.pending, name="pending"),
    path("terms/<int:pk>/accept/", views.accept, name="accept"),
    path("staff/terms/", views.overview, name="overview"),
    path("staff/terms/publish/", views.publish, name="publish"),
]
