from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("staff/ethics/", views.ethics_queue, name="ethics_queue"),
    path("staff/ethics/<str:reference>/", views.ethics_review, name="ethics_review"),
]
