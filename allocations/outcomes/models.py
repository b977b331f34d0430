"""What an allocation leaves behind: the final report the organisation owes after the end, the outputs it
records (publications, models, datasets, ...), the reminders sent about the report, and the managers'
overrides of the rule that an overdue report blocks new submissions."""

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from allocations.grants.models import Allocation


class FinalReportStatus(models.TextChoices):
    DUE = "due", _("Due, not started")
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    MORE_ASKED = "more_asked", _("More asked by the managers")


# The organisation still owes the report in these statuses (overdue once the due date has passed).
OPEN_STATUSES = frozenset({FinalReportStatus.DUE, FinalReportStatus.DRAFT, FinalReportStatus.MORE_ASKED})
# The applicant may edit the report in these statuses.
EDITABLE_STATUSES = OPEN_STATUSES


class FinalReport(models.Model):
    """The report an allocation's organisation owes after the end date; one per allocation."""

    allocation = models.OneToOneField(Allocation, on_delete=models.PROTECT, related_name="final_report")
    status = models.CharField(_("status"), max_length=12, choices=FinalReportStatus.choices,
                              default=FinalReportStatus.DUE, db_index=True)
    due_date = models.DateField(_("due on"), db_index=True)
    # The sections asked, copied from the access mode when the report was opened: a later change of the
    # mode does not change what an organisation was asked.
    sections = models.JSONField(default=list)
    results = models.TextField(_("results"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    compute_use = models.TextField(_("how the compute was used"), blank=True)
    ai_act_still_holds = models.BooleanField(_("the AI Act assessment still holds"), null=True, blank=True)
    ai_act_explanation = models.TextField(_("what changed since the AI Act assessment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted on"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed on"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    review_comment = models.TextField(_("the managers' comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("final report")
        verbose_name_plural = _("final reports")
        constraints = [models.CheckConstraint(condition=models.Q(status__in=FinalReportStatus.values),
                                              name="final_report_status_valid")]

    def __str__(self):
        return f"{self.allocation_id}: {self.status}"

    def get_absolute_url(self):
        return reverse("outcomes:final_report", args=[self.allocation.reference])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_received(self) -> bool:
        return self.submitted_at is not None

    @property
    def is_accepted(self) -> bool:
        return self.status == FinalReportStatus.ACCEPTED

    @property
    def is_submitted(self) -> bool:
        return self.status == FinalReportStatus.SUBMITTED

    @property
    def more_asked(self) -> bool:
        return self.status == FinalReportStatus.MORE_ASKED

    def asks(self, section: str) -> bool:
        return section in (self.sections or [])

    def is_overdue_on(self, day) -> bool:
        return self.is_open and self.due_date < day


class OutputKind(models.TextChoices):
    PUBLICATION = "publication", _("Publication")
    MODEL = "model", _("Released model")
    DATASET = "dataset", _("Dataset")
    SOFTWARE = "software", _("Software")
    PATENT = "patent", _("Patent")
    PRODUCT = "product", _("Product")


https_validator = URLValidator(schemes=["https"], message=_("Give an address that starts with https://."))


class Output(models.Model):
    """Something the allocation produced, recorded by the organisation from the start date on."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="outputs")
    kind = models.CharField(_("kind"), max_length=12, choices=OutputKind.choices)
    title = models.CharField(_("title"), max_length=300)
    link = models.URLField(_("link"), max_length=500, validators=[https_validator])
    # Publications only: the DOI, normalised to 10.NNNN/suffix (outcomes.doi).
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded on"), auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("output")
        verbose_name_plural = _("outputs")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=OutputKind.values), name="output_kind_valid"),
            models.CheckConstraint(condition=~models.Q(kind=OutputKind.PUBLICATION) | ~models.Q(doi=""),
                                   name="output_publication_has_doi"),
        ]
        indexes = [models.Index(fields=["recorded_at"], name="output_recorded_idx")]

    def __str__(self):
        return self.title


class ReminderKind(models.TextChoices):
    BEFORE = "before", _("Before the due date")
    DUE_DATE = "due_date", _("On the due date")


class FinalReportReminder(models.Model):
    """One reminder sent about one due date of a report: the unique row makes the reminders idempotent
    (a new due date, after the managers asked for more, gets its own reminders)."""

    report = models.ForeignKey(FinalReport, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    due_date = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "kind", "due_date"],
                                               name="final_report_reminder_once")]

    def __str__(self):
        return f"{self.report_id} {self.kind} {self.due_date}"


class SubmissionOverride(models.Model):
    """A manager lets an organisation with an overdue final report submit one application anyway."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="submission_overrides")
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("granted on"), auto_now_add=True)
    used_at = models.DateTimeField(_("used on"), null=True, blank=True)
    used_for = models.ForeignKey("allocations.Application", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        ordering = ["-granted_at", "-pk"]
        verbose_name = _("submission override")
        verbose_name_plural = _("submission overrides")

    def __str__(self):
        return f"{self.organisation_id} {self.granted_at:%Y-%m-%d}"
