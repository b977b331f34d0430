"""Input and output shapes of the applications, reviews, decisions and allocations API.

Input serializers check shapes and types only; every rule (who, when, what is allowed) is the
services'. Output serializers read only what the selectors fetched (no query per row)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from rest_framework import serializers

from accounts.models import Sector
from allocations.applications.models import (
    Application,
    Attachment,
    AttachmentKind,
    EthicsIssue,
    ModelActivity,
    RDType,
    RequestedResource,
    TeamMember,
)
from allocations.applications.permissions import can_read_attachments
from allocations.catalogue.models import AccessMode, Site
from compliance.ai_act import RiskClass
from portal.limits import MAX_BIGINT, MAX_INT


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_name = serializers.CharField()


# ------------------------------------------------------------------------------------ applications

class ApplicationListSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(read_only=True)
    access_mode = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Application
        fields = ["reference", "title", "status", "organisation", "access_mode", "call", "created_at", "updated_at",
                  "submitted_at", "decision_due"]
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RequestedResource
        fields = ["site", "gpu_hours", "cpu_core_hours", "storage_tb"]
        read_only_fields = fields


class TeamMemberSerializer(serializers.ModelSerializer):
    confirmed = serializers.SerializerMethodField()

    class Meta:
        model = TeamMember
        fields = ["id", "full_name", "email", "cluster_username", "invited_at", "confirmed"]
        read_only_fields = fields

    def get_confirmed(self, member) -> bool:
        return member.confirmed_at is not None


class AssessmentSummarySerializer(serializers.Serializer):
    ruleset_version = serializers.CharField()
    classification = serializers.ChoiceField(choices=RiskClass.choices, allow_blank=True,
                                             help_text="Blank while questions are unanswered.")
    complete = serializers.BooleanField()
    needs_ethics_review = serializers.BooleanField()
    prohibited = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class EthicsAnswerSerializer(serializers.Serializer):
    answer = serializers.BooleanField(allow_null=True)
    text = serializers.CharField(allow_blank=True, max_length=5000, required=False, default="")


class AttachmentSerializer(serializers.ModelSerializer):
    """One document. `download_url` is given when the caller may read it (the attachment rule,
    `applications.permissions.attachment_access`, computed once by the view: context
    `can_read_attachments`), else null."""

    content_type = serializers.SerializerMethodField(help_text="Always application/pdf: attachments are checked "
                                                               "PDF documents.")
    download_url = serializers.SerializerMethodField(help_text="GET it for the file (audited when staff download "
                                                               "it); null when the caller may not read it.")

    class Meta:
        model = Attachment
        fields = ["id", "kind", "original_name", "size", "sha256", "content_type", "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_content_type(self, attachment) -> str:
        return "application/pdf"

    def get_download_url(self, attachment) -> str | None:
        if not self.context.get("can_read_attachments"):
            return None
        url = reverse("application-attachment", args=[attachment.application.reference, attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


def attachment_context(request, application) -> dict:
    """What AttachmentSerializer needs to give download URLs: the request, and the attachment rule's answer."""
    return {"request": request, "can_read_attachments": can_read_attachments(request.user, application)}


class AttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField(help_text="A PDF, opened and checked (refused if damaged, encrypted, with JavaScript "
                                           "or actions, or with embedded files), at most ATTACHMENT_MAX_BYTES.")


class ApplicationDetailSerializer(ApplicationListSerializer):
    # Choices that stay blank in a draft: declared so that the schema's enums include "".
    sector = serializers.ChoiceField(choices=Sector.choices, allow_blank=True, read_only=True)
    rd_type = serializers.ChoiceField(choices=RDType.choices, allow_blank=True, read_only=True)
    model_activity = serializers.ChoiceField(choices=ModelActivity.choices, allow_blank=True, read_only=True)
    resources = ResourceSerializer(many=True, read_only=True)
    team = TeamMemberSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    ethics_issues = serializers.DictField(child=EthicsAnswerSerializer(), read_only=True)
    assessment = serializers.SerializerMethodField()
    ethics_review_status = serializers.SerializerMethodField()
    allocation = serializers.SerializerMethodField()

    class Meta(ApplicationListSerializer.Meta):
        fields = ApplicationListSerializer.Meta.fields + [
            "abstract", "public_summary", "sector", "civilian_purpose", "dual_use", "dual_use_explanation", "rd_type",
            "route_to_market", "start_date", "duration_months", "model_activity", "model_family", "parameter_count",
            "training_tokens", "base_model_name", "base_model_flop", "open_weights", "model_lineage",
            "ethics_issues", "resources", "team", "attachments", "assessment", "ethics_review_status", "allocation",
            "decided_at"]
        read_only_fields = fields

    @staticmethod
    def _related(app, name):
        try:
            return getattr(app, name)
        except ObjectDoesNotExist:  # a reverse one-to-one not created yet
            return None

    def get_assessment(self, app) -> AssessmentSummarySerializer(allow_null=True):
        assessment = self._related(app, "risk_assessment")
        return AssessmentSummarySerializer(assessment).data if assessment is not None else None

    def get_ethics_review_status(self, app) -> str | None:
        review = self._related(app, "ethics_review")
        return review.status if review is not None else None

    def get_allocation(self, app) -> str | None:
        allocation = self._related(app, "allocation")
        return allocation.reference if allocation is not None else None


class ApplicationCreateSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT,
                                            help_text="Id of one of the caller's organisations.")
    title = serializers.CharField(max_length=200)


# The route to market and open weights are answered in the AI Act questionnaire (route_to_market,
# open_weights); the step endpoints no longer take them, the detail still shows earlier answers.
class ProjectStepSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    abstract = serializers.CharField(allow_blank=True, max_length=20000, required=False)
    public_summary = serializers.CharField(allow_blank=True, max_length=5000, required=False)
    sector = serializers.ChoiceField(choices=Sector.choices, allow_blank=True, required=False)
    civilian_purpose = serializers.BooleanField(allow_null=True, required=False)
    dual_use = serializers.BooleanField(allow_null=True, required=False)
    dual_use_explanation = serializers.CharField(allow_blank=True, max_length=5000, required=False)
    rd_type = serializers.ChoiceField(choices=RDType.choices, allow_blank=True, required=False)


class ModelStepSerializer(serializers.Serializer):
    model_activity = serializers.ChoiceField(choices=ModelActivity.choices, allow_blank=True, required=False)
    model_family = serializers.CharField(allow_blank=True, max_length=120, required=False)
    parameter_count = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, allow_null=True, required=False)
    training_tokens = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, allow_null=True, required=False)
    base_model_name = serializers.CharField(allow_blank=True, max_length=120, required=False)
    base_model_flop = serializers.FloatField(min_value=0, max_value=1e40, allow_null=True, required=False)
    model_lineage = serializers.CharField(allow_blank=True, max_length=120, required=False)


class ResourceRowSerializer(serializers.Serializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.filter(is_active=True))
    gpu_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    cpu_core_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    storage_tb = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, default=0)


class ResourcesStepSerializer(serializers.Serializer):
    access_mode = serializers.SlugRelatedField(slug_field="code", queryset=AccessMode.objects.filter(is_active=True),
                                               allow_null=True, required=False)
    call = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, allow_null=True, required=False,
                                    help_text="Id of an open call (needed by modes with a cut-off).")
    start_date = serializers.DateField(allow_null=True, required=False)
    duration_months = serializers.IntegerField(min_value=1, max_value=120, allow_null=True, required=False)
    resources = ResourceRowSerializer(many=True, required=False, max_length=20,
                                      help_text="Replaces every per-site request; rows of zeros are dropped.")

    def validate_resources(self, rows):
        codes = [row["site"].code for row in rows]
        if len(codes) != len(set(codes)):
            raise serializers.ValidationError("Give each site once.")
        return rows


EthicsIssuesSerializer = type("EthicsIssuesSerializer", (serializers.Serializer,), {
    code: EthicsAnswerSerializer(required=False, help_text=str(label)) for code, label in EthicsIssue.choices})


class TeamMemberCreateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    cluster_username = serializers.CharField(max_length=32)


class TeamConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, write_only=True, trim_whitespace=True,
                                  help_text="The token from the confirmation link mailed to the team member (the "
                                            "last part of its path). Send it in the body, never in a URL.")


class TeamConfirmationSerializer(serializers.Serializer):
    """What the confirmation page tells the team member."""

    application = serializers.CharField(source="application.reference")
    full_name = serializers.CharField()
    cluster_username = serializers.CharField()
    confirmed_at = serializers.DateTimeField()


class SubmitSerializer(serializers.Serializer):
    declaration_version = serializers.CharField(
        max_length=20, help_text="The version of the declaration of honour the person submitting makes (GET "
                                 "…/declaration/ gives the current one and its text). Without it, or with an older "
                                 "version, the submission is refused (400) and nothing changes.")


class DeclarationSerializer(serializers.Serializer):
    """The declaration of honour a submission carries, in the language of the request."""

    version = serializers.CharField()
    language = serializers.CharField()
    text = serializers.CharField()
    statements = serializers.ListField(child=serializers.CharField())


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=500, required=False, default="")


class ProblemSerializer(serializers.Serializer):
    step = serializers.CharField()
    field = serializers.CharField()
    site = serializers.CharField(help_text="The site's code when the field is one site's amount; blank otherwise.")
    message = serializers.CharField()


# ------------------------------------------------------------------------------------ AI Act

class OptionSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    exclusive = serializers.BooleanField()


class QuestionSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["yes_no", "single_choice", "multi_choice"])
    text = serializers.CharField()
    help = serializers.CharField(allow_blank=True)
    article = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    options = OptionSerializer(many=True)
    answer = serializers.JSONField(allow_null=True, help_text="The saved answer: 'yes'/'no', an option, or a list.")


class QuestionnaireSerializer(serializers.Serializer):
    ruleset = serializers.CharField()
    ruleset_sha256 = serializers.CharField()
    title = serializers.CharField()
    language = serializers.CharField()
    questions = QuestionSerializer(many=True, help_text="The questions visible given the saved answers, in order.")
    missing = serializers.ListField(child=serializers.CharField(),
                                    help_text="Ids of visible questions without an answer yet.")


class AnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(), allow_empty=True,
        help_text="Question id -> answer: 'yes'/'no' (or true/false), an option value, or a list of options. "
                  "Answers to questions hidden by earlier answers are dropped.")


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()


class AssessmentResultSerializer(serializers.Serializer):
    ruleset = serializers.CharField()
    ruleset_sha256 = serializers.CharField()
    language = serializers.CharField()
    classification = serializers.ChoiceField(choices=RiskClass.choices)
    complete = serializers.BooleanField(
        help_text="False while a question of the path is unanswered, an input it needs is missing, or answers "
                  "contradict each other; the classification is then 'incomplete', with no conclusion.")
    missing_answers = serializers.ListField(
        child=serializers.CharField(), help_text="Ids of the unanswered questions, then codes of missing inputs.")
    missing = serializers.ListField(child=FindingSerializer(), help_text="The same, each with its text.")
    contradictions = serializers.ListField(child=FindingSerializer(),
                                           help_text="Answers that cannot all be true, by name.")
    flags = serializers.DictField(child=serializers.BooleanField())
    conclusions = serializers.ListField(child=serializers.DictField())
    obligations = serializers.ListField(child=serializers.DictField())
    compute = serializers.DictField(allow_null=True)
