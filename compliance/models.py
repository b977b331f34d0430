from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from .ai_act.risk import RiskClass, risk_class_label


class RiskAssessment(models.Model):
    """The EU AI Act assessment of one application: answers, the rule set used, and the result.

    The rule-set version and the SHA-256 of its file are stored so that the result can be reproduced,
    and re-evaluated later against another rule set without rewriting history."""

    application = models.OneToOneField("allocations.Application", on_delete=models.CASCADE,
                                       related_name="risk_assessment")
    ruleset_version = models.CharField(max_length=40)
    ruleset_sha256 = models.CharField(max_length=64)
    answers = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    classification = models.CharField(max_length=30, blank=True, db_index=True)
    needs_ethics_review = models.BooleanField(default=False)
    prohibited = models.BooleanField(default=False)
    complete = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("AI Act risk assessment")
        verbose_name_plural = _("AI Act risk assessments")

    def __str__(self):
        return f"{self.application_id}: {self.classification or 'incomplete'}"

    @property
    def risk_class(self) -> RiskClass | None:
        """The overall class, or None while questions are unanswered."""
        return RiskClass(self.classification) if self.classification in RiskClass.values else None

    @property
    def classification_label(self):
        return risk_class_label(self.classification)


class EthicsStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting ethics review")
    AUTO_CLEARED = "auto_cleared", _("Cleared automatically")
    CLEARED = "cleared", _("Cleared")
    CLEARED_WITH_CONDITIONS = "cleared_with_conditions", _("Cleared with conditions")
    REFUSED = "refused", _("Refused")


#: The reasons stored with an automatic clearance (in English, the record); pages show it translated.
AUTO_CLEARANCE_RULE = gettext_noop("No AI Act duty needing review, no sensitive sector, no dual use and no ethics "
                                   "issue declared (portal ethics policy, automatic clearance).")


class EthicsReview(models.Model):
    application = models.OneToOneField("allocations.Application", on_delete=models.CASCADE,
                                       related_name="ethics_review")
    status = models.CharField(max_length=30, choices=EthicsStatus.choices, default=EthicsStatus.PENDING,
                              db_index=True)
    triggers = models.JSONField(default=list, blank=True,
                                help_text=_("Why ethics review is needed, each with the rule it cites."))
    reasons = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ethics review")
        verbose_name_plural = _("ethics reviews")
        constraints = [models.CheckConstraint(condition=models.Q(status__in=EthicsStatus.values),
                                              name="ethics_status_valid")]
        # The orders of the ethics queue (pending, oldest first), of the API list and of the recent
        # decisions, so that a page reads 25 index entries instead of sorting every review.
        indexes = [
            models.Index(fields=["status", "created_at", "id"], name="ethics_status_created_idx"),
            models.Index(fields=["created_at", "id"], name="ethics_created_idx"),
            models.Index(fields=["-decided_at"], name="ethics_decided_idx",
                         condition=~models.Q(status=EthicsStatus.PENDING)),
        ]

    def __str__(self):
        return f"{self.application_id}: {self.status}"

    @property
    def is_cleared(self) -> bool:
        return self.status in {EthicsStatus.AUTO_CLEARED, EthicsStatus.CLEARED,
                               EthicsStatus.CLEARED_WITH_CONDITIONS}

    @property
    def is_pending(self) -> bool:
        return self.status == EthicsStatus.PENDING

    @property
    def reasons_text(self) -> str:
        """The reasons for a reader: the automatic clearance's in the active language, an officer's as written."""
        return gettext(AUTO_CLEARANCE_RULE) if self.reasons == AUTO_CLEARANCE_RULE else self.reasons


class EvidenceStatus(models.TextChoices):
    """Where the evidence a condition asks for stands (a condition without `evidence_required`: none)."""

    NOT_REQUIRED = "not_required", _("No evidence asked")
    MISSING = "missing", _("Evidence to upload")
    SUBMITTED = "submitted", _("Evidence waiting for the ethics officer")
    ACCEPTED = "accepted", _("Evidence accepted")
    REJECTED = "rejected", _("Evidence not accepted: upload it again")


class EthicsCondition(models.Model):
    """A condition of an ethics clearance. It is met once a member of the organisation acknowledged it
    and, when it asks for evidence ("share the DPIA summary"), an ethics officer accepted the PDF they
    uploaded; the allocation starts only when every condition is met (conditions_outstanding)."""

    review = models.ForeignKey(EthicsReview, on_delete=models.CASCADE, related_name="conditions")
    text = models.TextField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    evidence_status = models.CharField(_("evidence"), max_length=14, choices=EvidenceStatus.choices,
                                       default=EvidenceStatus.NOT_REQUIRED)
    # The newest PDF uploaded, kept with the application's documents (and their access rule).
    evidence = models.ForeignKey("allocations.Attachment", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    evidence_comment = models.TextField(_("ethics officer's comment"), blank=True)
    evidence_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    evidence_decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(evidence_status__in=EvidenceStatus.values),
                                              name="ethics_condition_evidence_status_valid")]

    def __str__(self):
        return self.text[:60]

    @property
    def evidence_required(self) -> bool:
        return self.evidence_status != EvidenceStatus.NOT_REQUIRED

    @property
    def needs_evidence(self) -> bool:
        """The applicant has evidence to upload (none yet, or the last one was not accepted)."""
        return self.evidence_status in (EvidenceStatus.MISSING, EvidenceStatus.REJECTED)

    @property
    def awaits_officer(self) -> bool:
        """Evidence uploaded, waiting for an ethics officer to accept or reject it."""
        return self.evidence_status == EvidenceStatus.SUBMITTED

    @property
    def accepts_evidence(self) -> bool:
        """The applicant may upload (again): evidence asked and not accepted yet."""
        return self.evidence_required and self.evidence_status != EvidenceStatus.ACCEPTED

    @property
    def is_met(self) -> bool:
        return self.acknowledged_at is not None and self.evidence_status in (EvidenceStatus.NOT_REQUIRED,
                                                                              EvidenceStatus.ACCEPTED)


class ReportKind(models.TextChoices):
    DOSSIER = "dossier", _("Application dossier")
    PERIOD = "period", _("Period report")


class ReportAudience(models.TextChoices):
    STAFF = "staff", _("Staff (complete)")
    APPLICANT = "applicant", _("Applicant (without staff-only details)")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being generated")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class Report(models.Model):
    """A generated PDF audit report (and, for period reports, its CSV twin).

    The files live under PRIVATE_MEDIA_ROOT/reports, never in static files, and are served only through
    a permission check. The SHA-256 of the PDF bytes is what `verify_report` and /reports/verify/ look up:
    a file is genuine exactly when its hash is one the portal stored when it issued it."""

    kind = models.CharField(_("kind"), max_length=10, choices=ReportKind.choices)
    audience = models.CharField(_("audience"), max_length=10, choices=ReportAudience.choices,
                                default=ReportAudience.STAFF)
    application = models.ForeignKey("allocations.Application", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="reports")
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED,
                              db_index=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file_name = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True, db_index=True)
    csv_file_name = models.CharField(max_length=100, blank=True)
    csv_sha256 = models.CharField(_("SHA-256 of the CSV"), max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ReportKind.values), name="report_kind_valid"),
            models.CheckConstraint(condition=models.Q(audience__in=ReportAudience.values),
                                   name="report_audience_valid"),
            models.CheckConstraint(condition=models.Q(status__in=ReportStatus.values), name="report_status_valid"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="report_progress_percent"),
            models.CheckConstraint(
                condition=models.Q(kind=ReportKind.PERIOD, application__isnull=True)
                | models.Q(kind=ReportKind.DOSSIER, application__isnull=False),
                name="report_dossier_has_application"),
        ]

    def __str__(self):
        return f"report #{self.pk} ({self.kind})"

    def get_absolute_url(self):
        if self.audience == ReportAudience.APPLICANT:
            return reverse("compliance:my_report_detail", args=[self.pk])
        return reverse("compliance:report_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)

    @property
    def is_dossier(self) -> bool:
        return self.kind == ReportKind.DOSSIER

    @property
    def is_period(self) -> bool:
        return self.kind == ReportKind.PERIOD

    @property
    def is_running(self) -> bool:
        return self.status == ReportStatus.RUNNING

    @property
    def is_done(self) -> bool:
        return self.status == ReportStatus.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == ReportStatus.FAILED
