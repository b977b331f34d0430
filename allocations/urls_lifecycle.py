from django.urls import path

from . import views_lifecycle as views

app_name = "lifecycle"

urlpatterns = [
    path("applications/<str:reference>/feedback/", views.application_feedback, name="application_feedback"),
    path("allocations/", views.allocation_list, name="allocation_list"),
    path("allocations/<str:reference>/", views.allocation_detail, name="allocation_detail"),
    path("allocations/<str:reference>/conditions/<int:pk>/acknowledge/", views.condition_ack,
         name="condition_acknowledge"),
    path("allocations/<str:reference>/changes/<slug:kind>/", views.change_request_new, name="change_request_new"),
]
