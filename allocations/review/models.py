"""Reviewer pools, assignments with conflict-of-interest declarations, reviews and decisions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from allocations.applications.models import Application


class ReviewKind(models.TextChoices):
    TECHNICAL = "technical", _("Technical")
    SCIENTIFIC = "scientific", _("Scientific")


class ReviewerPool(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ReviewKind.choices)
    restricted_sectors = models.JSONField(
        _("restricted to sectors"), default=list, blank=True,
        help_text=_("A restricted pool (e.g. defence, security) is the only pool used for those sectors."))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="reviewer_pools", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reviewer pool")
        verbose_name_plural = _("reviewer pools")

    def __str__(self):
        return self.name


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned (conflict declaration pending)")
    ACCEPTED = "accepted", _("No conflict declared: reviewing")
    CONFLICTED = "conflicted", _("Conflict of interest declared")
    SUBMITTED = "submitted", _("Review submitted")
    CANCELLED = "cancelled", _("Cancelled")


class ReviewAssignment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments")
    kind = models.CharField(max_length=12, choices=ReviewKind.choices)
    status = models.CharField(max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED,
                              db_index=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    due_date = models.DateField(null=True, blank=True)
    coi_declared_at = models.DateTimeField(null=True, blank=True)
    coi_statement = models.TextField(blank=True)

    class Meta:
        ordering = ["assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"],
                                    condition=~models.Q(status=AssignmentStatus.CANCELLED),
                                    name="assignment_unique_active"),
            models.CheckConstraint(condition=models.Q(status__in=AssignmentStatus.values),
                                   name="assignment_status_valid"),
        ]

    def __str__(self):
        return f"{self.application_id} -> {self.reviewer_id} ({self.kind})"

    @property
    def is_accepted(self) -> bool:
        return self.status == AssignmentStatus.ACCEPTED

    @property
    def is_conflicted(self) -> bool:
        return self.status == AssignmentStatus.CONFLICTED


class Review(models.Model):
    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.CASCADE, related_name="review")
    scores = models.JSONField(default=dict)
    weighted_score = models.DecimalField(max_digits=6, decimal_places=3)
    recommendation = models.CharField(max_length=12, choices=[
        ("approve", _("Approve")), ("revise", _("Ask for a revision")), ("reject", _("Reject"))])
    comments_for_committee = models.TextField(blank=True)
    comments_for_applicant = models.TextField(blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"review {self.assignment_id}"


class ApplicantReply(models.Model):
    """The applicant's right to reply to the reviews before the committee decides."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="reply")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class DecisionOutcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REVISION_REQUESTED = "revision_requested", _("Revision requested")


class Decision(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=DecisionOutcome.choices)
    reasons = models.TextField(blank=True)
    comments_for_applicant = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at"]

    def __str__(self):
        return f"{self.application_id}: {self.outcome}"

    @property
    def is_rejected(self) -> bool:
        return self.outcome == DecisionOutcome.REJECTED


class ConflictDeclaration(models.Model):
    """A standing declaration by a reviewer: past or present ties to an organisation."""

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    statement = models.TextField(blank=True)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reviewer", "organisation"], name="coi_unique")]
