from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allocations.applications.api.serializers import AttachmentSerializer, EthicsAnswerSerializer
from compliance.ai_act import RiskClass
from compliance.models import EthicsReview, EthicsStatus
from portal.models import AuditEvent


class EthicsReviewSerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="application.reference", read_only=True)
    title = serializers.CharField(source="application.title", read_only=True)
    organisation = serializers.CharField(source="application.organisation.legal_name", read_only=True)
    ai_act_classification = serializers.SerializerMethodField()
    conditions = serializers.SerializerMethodField()

    class Meta:
        model = EthicsReview
        fields = ["application", "title", "organisation", "status", "triggers", "reasons", "ai_act_classification",
                  "conditions", "created_at", "decided_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=RiskClass.choices, allow_blank=True, allow_null=True))
    def get_ai_act_classification(self, review) -> str | None:
        assessment = getattr(review.application, "risk_assessment", None)
        return assessment.classification if assessment is not None else None

    def get_conditions(self, review) -> list[str]:
        return [c.text for c in review.conditions.all()]


class EthicsReviewDetailSerializer(EthicsReviewSerializer):
    ethics_issues = serializers.DictField(source="application.ethics_issues", child=EthicsAnswerSerializer(),
                                          read_only=True, help_text="Ethics issue -> the applicant's answer.")
    attachments = AttachmentSerializer(source="application.attachments", many=True, read_only=True)

    class Meta(EthicsReviewSerializer.Meta):
        fields = EthicsReviewSerializer.Meta.fields + ["ethics_issues", "attachments"]
        read_only_fields = fields


class EthicsDecisionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[EthicsStatus.CLEARED, EthicsStatus.CLEARED_WITH_CONDITIONS,
                                              EthicsStatus.REFUSED])
    reasons = serializers.CharField(allow_blank=True, max_length=5000, required=False, default="")
    conditions = serializers.ListField(child=serializers.CharField(max_length=2000), required=False, default=list,
                                       max_length=50)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True, read_only=True,
                                     help_text="The actor's user id (names are resolved by the pages, never stored).")

    class Meta:
        model = AuditEvent
        fields = ["seq", "created_at", "actor", "action", "object_type", "object_id", "changes", "request_id",
                  "prev_hash", "hash"]
        read_only_fields = fields


class CountSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True, help_text="The stored value (blank: not assessed, or no sector).")
    label = serializers.CharField(help_text="Its label in the request's language.")
    count = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="Share of all counted applications, rounded.")


class EthicsWorkspaceSerializer(serializers.Serializer):
    """The counts of the ethics officer's workspace (/staff/ethics/workspace/); the lists behind them are
    GET ethics/reviews/?status=pending and the applications' ethics conditions."""

    pending = serializers.IntegerField(help_text="Ethics reviews waiting for a decision.")
    conditions_awaiting_acknowledgement = serializers.IntegerField()
    by_risk_class = CountSerializer(many=True, help_text="Submitted applications per AI Act risk class.")
    by_sector = CountSerializer(many=True, help_text="Submitted applications per sector.")
