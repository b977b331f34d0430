"""The applicant's application pages: the eight steps, attachments, submission, withdrawal."""

from django.urls import path, register_converter

from . import views


class ReferenceConverter:
    """Application references such as AIF-2026-0042."""

    regex = r"[A-Z]{2,10}-[0-9]{4}-[0-9]{4,6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")

app_name = "applications"

urlpatterns = [
    # Applicant journey
    path("applications/", views.application_list, name="application_list"),
    path("applications/new/", views.application_create, name="application_create"),
    path("applications/<ref:reference>/", views.application_detail, name="application_detail"),
    path("applications/<ref:reference>/project/", views.step_project, name="step_project"),
    path("applications/<ref:reference>/resources/", views.step_resources, name="step_resources"),
    path("applications/<ref:reference>/ai-model/", views.step_model, name="step_model"),
    path("applications/<ref:reference>/ai-act/", views.step_ai_act, name="step_ai_act"),
    path("applications/<ref:reference>/team/", views.step_team, name="step_team"),
    path("applications/<ref:reference>/team/<int:pk>/remove/", views.team_member_remove, name="team_member_remove"),
    path("applications/<ref:reference>/ethics/", views.step_ethics, name="step_ethics"),
    path("applications/<ref:reference>/attachments/", views.step_attachments, name="step_attachments"),
    path("applications/<ref:reference>/attachments/<int:pk>/", views.attachment_download,
         name="attachment_download"),
    path("applications/<ref:reference>/attachments/<int:pk>/delete/", views.attachment_delete,
         name="attachment_delete"),
    path("applications/<ref:reference>/review/", views.step_review, name="step_review"),
    path("applications/<ref:reference>/submit/", views.application_submit, name="application_submit"),
    path("applications/<ref:reference>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path("applications/<ref:reference>/revise/", views.application_reopen, name="application_reopen"),
    # Public: the link mailed to each team member
    path("team/confirm/<str:token>/", views.team_confirm, name="team_confirm"),
]
