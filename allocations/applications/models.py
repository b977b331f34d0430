"""An application for free compute, its requested resources, team and attachments."""

import hashlib

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Sector
from accounts.validators import plain_name_validator
from allocations.catalogue.models import AccessMode, Call, Site
from allocations.catalogue.usernames import cluster_username_validator, reserved_username_validator


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted (eligibility check)")
    IN_REVIEW = "in_review", _("In review")
    AWAITING_DECISION = "awaiting_decision", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REVISION_REQUESTED = "revision_requested", _("Revision requested")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RDType(models.TextChoices):
    OPEN = "open", _("Open R&D (results published)")
    PRODUCT = "product", _("Product R&D (towards a product or service)")


class ModelActivity(models.TextChoices):
    TRAIN = "train", _("Train a model from scratch")
    FINE_TUNE = "fine_tune", _("Fine-tune or adapt an existing model")
    INFERENCE = "inference", _("Inference or evaluation only")
    OTHER = "other", _("Other AI work (no model training)")


class EthicsIssue(models.TextChoices):
    """Horizon Europe ethics issues table."""

    HUMAN_PARTICIPANTS = "human_participants", _("Human participants")
    PERSONAL_DATA = "personal_data", _("Personal data")
    ANIMALS = "animals", _("Animals")
    NON_EU_COUNTRIES = "non_eu_countries", _("Non-EU countries")
    ENVIRONMENT_SAFETY = "environment_safety", _("Environment, health and safety")
    ARTIFICIAL_INTELLIGENCE = "artificial_intelligence", _("Artificial intelligence")
    DUAL_USE = "dual_use", _("Dual use")
    MISUSE = "misuse", _("Misuse")
    OTHER = "other", _("Other ethics issues")


# Submitted at least once. A draft, or one withdrawn before submission, belongs to its organisation alone:
# staff never see it. A draft back for revision was submitted, so staff still see it.
EVER_SUBMITTED = models.Q(submitted_at__isnull=False)


class ApplicationQuerySet(models.QuerySet):
    def for_organisations_of(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(organisation__memberships__user=user)

    def ever_submitted(self):
        return self.filter(EVER_SUBMITTED)


class Application(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT, db_index=True)
    # 1. Project
    title = models.CharField(_("project title"), max_length=200)
    abstract = models.TextField(_("abstract"), blank=True)
    public_summary = models.TextField(_("public summary"), blank=True,
                                      help_text=_("Published on the portal if compute is granted."))
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, blank=True)
    civilian_purpose = models.BooleanField(_("the project has an exclusively civilian purpose"), null=True,
                                           blank=True)
    dual_use = models.BooleanField(_("the results could have dual (civil and military) use"), null=True, blank=True)
    dual_use_explanation = models.TextField(_("dual-use explanation"), blank=True)
    rd_type = models.CharField(_("type of R&D"), max_length=10, choices=RDType.choices, blank=True)
    route_to_market = models.TextField(_("intended route to market"), blank=True)
    # 2. Resources
    access_mode = models.ForeignKey(AccessMode, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="applications")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True, related_name="applications")
    start_date = models.DateField(_("start date"), null=True, blank=True)
    duration_months = models.PositiveSmallIntegerField(_("duration (months)"), null=True, blank=True)
    # 3. AI model
    model_activity = models.CharField(_("AI work"), max_length=12, choices=ModelActivity.choices, blank=True)
    model_family = models.CharField(_("model family or architecture"), max_length=120, blank=True)
    parameter_count = models.PositiveBigIntegerField(_("parameters"), null=True, blank=True)
    training_tokens = models.PositiveBigIntegerField(_("training tokens"), null=True, blank=True)
    base_model_name = models.CharField(_("base model"), max_length=120, blank=True)
    base_model_flop = models.FloatField(_("base model's reported training compute (FLOP)"), null=True, blank=True,
                                        validators=[MinValueValidator(0)])
    open_weights = models.BooleanField(_("weights will be published openly"), null=True, blank=True)
    model_lineage = models.CharField(_("model lineage"), max_length=120, blank=True,
                                     help_text=_("Name the model lineage if earlier allocations trained the same "
                                                 "model; their compute counts towards the cumulative total."))
    # 5. Ethics issues: {issue code: {"answer": bool, "text": str}}
    ethics_issues = models.JSONField(_("ethics issues"), default=dict, blank=True)
    # Lifecycle
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_due = models.DateField(_("decision due"), null=True, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ApplicationStatus.values),
                                   name="application_status_valid"),
        ]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="application_org_created_idx"),
                   # The oversight list (newest first) and the committee's overview (newest submission first)
                   # read one page of 50,000+ rows: without these, every page sorts the whole table.
                   models.Index(fields=["-created_at", "-id"], name="application_created_idx"),
                   models.Index(fields=["-submitted_at", "-id"], name="application_submitted_idx")]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("applications:application_detail", args=[self.reference])

    @property
    def is_editable(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    @property
    def is_draft(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    @property
    def is_submitted(self) -> bool:
        return self.status == ApplicationStatus.SUBMITTED  # waiting for the eligibility check

    @property
    def is_in_review(self) -> bool:
        return self.status == ApplicationStatus.IN_REVIEW

    @property
    def is_awaiting_decision(self) -> bool:
        return self.status == ApplicationStatus.AWAITING_DECISION

    @property
    def is_revision_requested(self) -> bool:
        return self.status == ApplicationStatus.REVISION_REQUESTED

    @property
    def is_decided(self) -> bool:
        return self.status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)


class RequestedResource(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="resources")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    gpu_hours = models.PositiveIntegerField(_("GPU-hours"), default=0)
    cpu_core_hours = models.PositiveIntegerField(_("CPU core-hours"), default=0)
    storage_tb = models.DecimalField(_("storage (TB)"), max_digits=8, decimal_places=2, default=0,
                                     validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["site__name"]
        constraints = [models.UniqueConstraint(fields=["application", "site"], name="resource_unique_site")]

    def __str__(self):
        return f"{self.application.reference} @ {self.site}"


class TeamMemberQuerySet(models.QuerySet):
    def confirmed(self):
        """Members who confirmed by the mailed link and were not erased since: the people who reach the clusters."""
        return self.filter(erased_at=None).exclude(confirmed_at=None)


class TeamMember(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="team")
    full_name = models.CharField(_("full name"), max_length=150, validators=[plain_name_validator])
    email = models.EmailField(_("e-mail address"))
    cluster_username = models.CharField(_("cluster username"), max_length=32,
                                        validators=[cluster_username_validator, reserved_username_validator])
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="team_memberships")
    token_hash = models.CharField(max_length=64, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The person was erased (accounts.privacy): the row stays as part of the application, pseudonymised,
    # and never reaches a Slurm association again.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TeamMemberQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(fields=["application", "email"], name="team_unique_email"),
            models.UniqueConstraint(fields=["application", "cluster_username"], name="team_unique_username"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.cluster_username})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class AttachmentKind(models.TextChoices):
    PROJECT_PLAN = "project_plan", _("Project plan")
    DATA_MANAGEMENT = "data_management", _("Data management plan")
    ETHICS = "ethics", _("Ethics authorisation or opinion")
    OTHER = "other", _("Other document")
    CONDITION_EVIDENCE = "condition_evidence", _("Evidence for an ethics condition")


class Attachment(models.Model):
    """A PDF stored outside static files (PRIVATE_MEDIA_ROOT), served only through a permission check."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=20, choices=AttachmentKind.choices)
    original_name = models.CharField(max_length=200)
    stored_name = models.CharField(max_length=200, unique=True)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name

    @property
    def download_name(self) -> str:
        """The uploaded name, ending in .pdf whatever it was: the content is a checked PDF, and a browser
        must not save it as something it would open with another program."""
        name = self.original_name
        return name if name.lower().endswith(".pdf") else f"{name}.pdf"


class SubmissionDeclaration(models.Model):
    """The declaration of honour made with one submission: who made it, when, and the words they agreed
    to (the version, and the text as they read it, in their language). Each submission adds one."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="declarations")
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(_("declared at"))
    version = models.CharField(_("version of the text"), max_length=20)
    language = models.CharField(_("language"), max_length=10)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["-declared_at", "-pk"]
        verbose_name = _("declaration of honour")
        verbose_name_plural = _("declarations of honour")

    def __str__(self):
        return f"{self.application.reference} {self.version} {self.declared_at:%Y-%m-%d %H:%M}"


class ReferenceSequence(models.Model):
    """Per-year counter behind human-readable references such as AIF-2026-0042."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)
