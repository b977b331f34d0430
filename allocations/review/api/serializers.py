from __future__ import annotations

from rest_framework import serializers

from allocations.applications.api.serializers import (
    MAX_BIGINT,
    MAX_INT,
    ApplicationDetailSerializer,
    AttachmentSerializer,
    EthicsAnswerSerializer,
    OrganisationRefSerializer,
    ResourceSerializer,
)
from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import Site
from allocations.grants.api.serializers import split_field
from allocations.review.models import AssignmentStatus, ReviewAssignment, ReviewKind
from compliance.ai_act import RiskClass


class ReviewFeedbackSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="e.g. 'Technical 1': reviewers stay anonymous.")
    comments = serializers.CharField(allow_blank=True)


class DecisionSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    reasons = serializers.CharField(allow_blank=True)
    comments_for_applicant = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField()


class ReplyOutSerializer(serializers.Serializer):
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class FeedbackSerializer(serializers.Serializer):
    reviews = ReviewFeedbackSerializer(many=True, help_text="Empty while the reviews are being written.")
    decisions = DecisionSerializer(many=True)
    reply = ReplyOutSerializer(allow_null=True)
    can_reply = serializers.BooleanField()


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=20000)


# ------------------------------------------------------------------------------------ reviews

class AssignmentSerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="application.reference", read_only=True)
    organisation = serializers.CharField(source="application.organisation.legal_name", read_only=True)

    class Meta:
        model = ReviewAssignment
        fields = ["id", "application", "organisation", "kind", "status", "assigned_at", "due_date",
                  "coi_declared_at"]
        read_only_fields = fields


class RubricCriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    weight = serializers.FloatField()
    scale = serializers.IntegerField()


class ReviewOutSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField())
    weighted_score = serializers.DecimalField(max_digits=6, decimal_places=3)
    recommendation = serializers.CharField()
    comments_for_committee = serializers.CharField(allow_blank=True)
    comments_for_applicant = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField()


class AssignmentContentSerializer(serializers.Serializer):
    """What a reviewer reads once they declared no conflict of interest."""

    title = serializers.CharField()
    abstract = serializers.CharField(allow_blank=True)
    public_summary = serializers.CharField(allow_blank=True)
    sector = serializers.CharField(allow_blank=True)
    access_mode = serializers.CharField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    duration_months = serializers.IntegerField(allow_null=True)
    model_activity = serializers.CharField(allow_blank=True)
    parameter_count = serializers.IntegerField(allow_null=True)
    training_tokens = serializers.IntegerField(allow_null=True)
    resources = ResourceSerializer(many=True)
    team_size = serializers.IntegerField()
    ai_act_classification = serializers.ChoiceField(choices=RiskClass.choices, allow_blank=True, allow_null=True)
    ethics_issues = serializers.DictField(child=EthicsAnswerSerializer(), help_text="Ethics issue -> the answer.")
    attachments = AttachmentSerializer(many=True, help_text="The documents, each with its download URL.")
    rubric = RubricCriterionSerializer(many=True)


class AssignmentDetailSerializer(AssignmentSerializer):
    content = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()

    class Meta(AssignmentSerializer.Meta):
        fields = AssignmentSerializer.Meta.fields + ["coi_statement", "content", "review"]
        read_only_fields = fields

    def get_content(self, a) -> AssignmentContentSerializer(allow_null=True):
        return self.context.get("content")

    def get_review(self, a) -> ReviewOutSerializer(allow_null=True):
        review = getattr(a, "review", None) if a.status == AssignmentStatus.SUBMITTED else None
        return ReviewOutSerializer(review).data if review is not None else None


class DeclarationSerializer(serializers.Serializer):
    has_conflict = serializers.BooleanField()
    statement = serializers.CharField(allow_blank=True, max_length=5000, required=False, default="")


class ReviewSubmitSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField(min_value=-1000, max_value=1000), allow_empty=True,
                                   help_text="Rubric criterion code -> score from 1 to the criterion's scale.")
    recommendation = serializers.ChoiceField(choices=["approve", "revise", "reject"])
    comments_for_committee = serializers.CharField(allow_blank=True, max_length=20000, required=False, default="")
    comments_for_applicant = serializers.CharField(allow_blank=True, max_length=20000, required=False, default="")


# ------------------------------------------------------------------------------------ decisions

class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, max_length=1000, required=False, default="")


class AssignReviewerSerializer(serializers.Serializer):
    reviewer = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="The reviewer's user id.")
    kind = serializers.ChoiceField(choices=ReviewKind.choices)


class QuotaSerializer(serializers.Serializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    gpu_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    cpu_core_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    storage_tb = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, default=0)


class ApproveSerializer(serializers.Serializer):
    quotas = QuotaSerializer(many=True, max_length=20, help_text="Per site; at most what was requested.")
    reasons = serializers.CharField(allow_blank=True, max_length=5000, required=False, default="")
    aid_confirmed = serializers.BooleanField(
        required=False, default=False, help_text="Under a de minimis access mode that warns: record the grant even "
                                                 "above the single undertaking's ceiling (docs/aid.md).")
    split = split_field()


class RejectSerializer(serializers.Serializer):
    reasons = serializers.CharField(allow_blank=True, max_length=2000)


class RevisionSerializer(serializers.Serializer):
    comments = serializers.CharField(allow_blank=True, max_length=2000)


class ManagerAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.IntegerField(source="reviewer_id")
    kind = serializers.CharField()
    status = serializers.CharField(help_text="conflicted: the reviewer declared a conflict of interest; the "
                                             "assignment is released and another reviewer can be assigned.")
    due_date = serializers.DateField(allow_null=True)
    coi_declared_at = serializers.DateTimeField(allow_null=True)
    coi_statement = serializers.CharField(allow_blank=True, help_text="The conflict the reviewer declared.")
    recommendation = serializers.CharField(allow_null=True)
    weighted_score = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)


class ManagerApplicationSerializer(ApplicationDetailSerializer):
    assignments = serializers.SerializerMethodField()
    approval_blockers = serializers.SerializerMethodField()

    class Meta(ApplicationDetailSerializer.Meta):
        fields = ApplicationDetailSerializer.Meta.fields + ["assignments", "approval_blockers"]
        read_only_fields = fields

    def get_assignments(self, app) -> ManagerAssignmentSerializer(many=True):
        rows = []
        for a in self.context.get("assignments", []):
            review = getattr(a, "review", None) if a.status == AssignmentStatus.SUBMITTED else None
            a.recommendation = review.recommendation if review else None
            a.weighted_score = review.weighted_score if review else None
            rows.append(a)
        return ManagerAssignmentSerializer(rows, many=True).data

    def get_approval_blockers(self, app) -> list[str]:
        return [str(b) for b in self.context.get("blockers", [])]


class CandidateSerializer(serializers.Serializer):
    """A member of an eligible pool (review.selectors.Candidate), for the assignment of a review."""

    reviewer = serializers.IntegerField(source="reviewer.pk", help_text="The reviewer's user id.")
    name = serializers.CharField(source="reviewer.display_name")
    pools = serializers.ListField(child=serializers.CharField())
    conflicts = serializers.ListField(child=serializers.CharField(),
                                      help_text="Likely conflicts of interest, a conflict declared on this "
                                                "application included.")
    assigned = serializers.BooleanField(help_text="Holds an assignment on this application (not cancelled, "
                                                  "not conflicted).")
    open_assignments = serializers.IntegerField(source="load", help_text="Open reviews on applications in review.")
    max_open_assignments = serializers.IntegerField(source="max_load")
    overloaded = serializers.BooleanField()
    assignable = serializers.BooleanField(help_text="No likely conflict, not assigned, below the limit.")


class CandidateQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReviewKind.choices)


# ------------------------------------------------------------------------------------ deadlines

class LateSerializer(serializers.Serializer):
    """A row of the deadlines board (review.selectors.Late): the object is read through `obj`."""

    due = serializers.DateField()
    working_days = serializers.IntegerField(help_text="Working days overdue when positive; 0 or less: working days "
                                                      "left (weekends and Belgian public holidays excluded).")
    overdue = serializers.BooleanField()


class ApplicationDueSerializer(LateSerializer):
    reference = serializers.CharField(source="obj.reference")
    organisation = OrganisationRefSerializer(source="obj.organisation")
    access_mode = serializers.CharField(source="obj.access_mode.code", allow_null=True, default=None)
    status = serializers.ChoiceField(source="obj.status", choices=ApplicationStatus.choices)


class AssignmentOverdueSerializer(LateSerializer):
    id = serializers.IntegerField(source="obj.pk")
    application = serializers.CharField(source="obj.application.reference")
    organisation = OrganisationRefSerializer(source="obj.application.organisation")
    reviewer = serializers.CharField(source="obj.reviewer.display_name")
    kind = serializers.ChoiceField(source="obj.kind", choices=ReviewKind.choices)
    status = serializers.ChoiceField(source="obj.status", choices=AssignmentStatus.choices)
