"""Reference data editable by staff: sites, their capacity, access modes and calls."""

import datetime
import re

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from allocations.catalogue.usernames import (
    DEFAULT_USERNAME_PATTERN,
    reserved_usernames_validator,
    username_pattern_validator,
)

slurm_name_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,33}$", _("Lowercase letters, digits and underscores, starting with a letter."))


login_host_validator = RegexValidator(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
    _("A host name: lowercase letters, digits, hyphens and dots."))


class GpuModel(models.TextChoices):
    A100 = "A100", "NVIDIA A100"
    H100 = "H100", "NVIDIA H100 SXM"
    H200 = "H200", "NVIDIA H200"
    MI300X = "MI300X", "AMD MI300X"


class ProvisioningMode(models.TextChoices):
    DIRECT = "direct", _("Direct (the portal pushes to Slurm)")
    HANDOVER = "handover", _("Hand-over (operators provision a remote centre by hand)")


class SlurmBackendKind(models.TextChoices):
    RECORD = "record", _("Record intended changes only")
    SACCTMGR = "sacctmgr", _("sacctmgr (command line)")
    SLURMRESTD = "slurmrestd", _("slurmrestd (REST + JWT)")
    HANDOVER = "handover", _("Hand-over to operators")


class RunningJobsPolicy(models.TextChoices):
    """What happens to the jobs still running when an allocation is revoked or expires (pending jobs are
    always cancelled)."""

    FINISH = "finish", _("Let running jobs finish")
    CANCEL = "cancel", _("Cancel running jobs")


class Site(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    slurm_cluster = models.CharField(_("Slurm cluster name"), max_length=34, validators=[slurm_name_validator])
    gpu_model = models.CharField(_("GPU model"), max_length=10, choices=GpuModel.choices, default=GpuModel.H100)
    offers_gpu_hours = models.BooleanField(_("offers GPU-hours"), default=True)
    offers_cpu_hours = models.BooleanField(_("offers CPU core-hours"), default=True)
    offers_storage = models.BooleanField(_("offers storage"), default=True)
    provisioning_mode = models.CharField(_("provisioning mode"), max_length=10, choices=ProvisioningMode.choices,
                                         default=ProvisioningMode.DIRECT)
    slurm_backend = models.CharField(_("Slurm backend"), max_length=12, choices=SlurmBackendKind.choices,
                                     default=SlurmBackendKind.RECORD)
    backend_options = models.JSONField(_("backend options"), default=dict, blank=True,
                                       help_text=_("Connection settings as JSON."))
    username_pattern = models.CharField(
        _("cluster username rule"), max_length=200, default=DEFAULT_USERNAME_PATTERN,
        validators=[username_pattern_validator],
        help_text=_("A regular expression every team member's cluster username must match in full, on top "
                    "of the portal's own rule."))
    reserved_usernames = models.JSONField(
        _("reserved cluster usernames"), default=list, blank=True, validators=[reserved_usernames_validator],
        help_text=_("Names this site keeps for itself, as a JSON list, on top of the system names the portal "
                    "always refuses (root, slurm, ...)."))
    cpus_per_gpu = models.PositiveSmallIntegerField(
        _("CPU cores per GPU"), null=True, blank=True,
        help_text=_("For a grant of GPU-hours without CPU core-hours: the CPU core-hours it may use per GPU-hour "
                    "(the cores that come with one GPU on this site's nodes). Empty: such a grant has no CPU "
                    "limit."))
    running_jobs_at_end = models.CharField(
        _("running jobs at revocation or expiry"), max_length=10, choices=RunningJobsPolicy.choices,
        default=RunningJobsPolicy.FINISH,
        help_text=_("Pending jobs are always cancelled when an allocation is revoked or expires."))
    # How applicants reach the site once their allocation runs (the allocation page's connection
    # instructions); an operator edits them in the admin. A hand-over site's centre tells its users itself.
    login_host = models.CharField(
        _("login host"), max_length=253, blank=True, validators=[login_host_validator],
        help_text=_("The host name users connect to with SSH, e.g. login.zellik.aifactory.eu."))
    documentation_url = models.URLField(_("user documentation"), blank=True,
                                        help_text=_("The site's guide for users (https://...)."))
    default_partition = models.CharField(
        _("default GPU partition"), max_length=34, blank=True, validators=[slurm_name_validator],
        help_text=_("The partition GPU jobs go to, shown in the example job script. Empty: none is named."))
    gpu_gres_type = models.CharField(
        _("GPU type in Slurm"), max_length=34, blank=True, validators=[slurm_name_validator],
        help_text=_("The GRES type of the site's GPUs (as in --gres=gpu:h100:1). Empty: jobs ask for --gpus."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self):
        return self.name

    def username_refusal(self, username: str) -> str | None:
        """Why this site refuses ``username`` as a cluster username (for the person), or None."""
        if username in {str(name).strip().lower() for name in self.reserved_usernames or []}:
            return _("“%(name)s” is reserved on %(site)s; choose another cluster username.") % {
                "name": username, "site": self.name}
        if not re.fullmatch(self.username_pattern or DEFAULT_USERNAME_PATTERN, username):
            return _("“%(name)s” does not follow the naming rule of %(site)s (%(pattern)s).") % {
                "name": username, "site": self.name, "pattern": self.username_pattern}
        return None


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class SiteCapacity(models.Model):
    """What a site can grant in one quarter, and how much of it is committed.

    Approvals lock these rows (SELECT ... FOR UPDATE) before adding to the committed figures, so
    concurrent approvals can never over-commit a site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="capacities")
    period_start = models.DateField(_("quarter starting"))
    gpu_hours = models.PositiveBigIntegerField(_("GPU-hours"), default=0)
    cpu_core_hours = models.PositiveBigIntegerField(_("CPU core-hours"), default=0)
    storage_tb = models.DecimalField(_("storage (TB)"), max_digits=10, decimal_places=2, default=0)
    committed_gpu_hours = models.PositiveBigIntegerField(default=0)
    committed_cpu_core_hours = models.PositiveBigIntegerField(default=0)
    committed_storage_tb = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        ordering = ["site", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["site", "period_start"], name="site_capacity_unique_period"),
            models.CheckConstraint(condition=models.Q(committed_gpu_hours__lte=models.F("gpu_hours")),
                                   name="site_capacity_gpu_not_overcommitted"),
            models.CheckConstraint(condition=models.Q(committed_cpu_core_hours__lte=models.F("cpu_core_hours")),
                                   name="site_capacity_cpu_not_overcommitted"),
        ]
        verbose_name = _("site capacity")
        verbose_name_plural = _("site capacities")

    def __str__(self):
        return f"{self.site} {self.period_start:%Y}-Q{(self.period_start.month - 1) // 3 + 1}"

    @property
    def remaining_gpu_hours(self) -> int:
        return self.gpu_hours - self.committed_gpu_hours

    @property
    def remaining_cpu_core_hours(self) -> int:
        return self.cpu_core_hours - self.committed_cpu_core_hours


class AccessMode(models.Model):
    """An access mode with its caps, durations, eligibility and review path (all data)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    min_gpu_hours = models.PositiveIntegerField(_("minimum GPU-hours (exclusive)"), null=True, blank=True)
    max_gpu_hours = models.PositiveIntegerField(_("maximum GPU-hours"), null=True, blank=True)
    max_cpu_core_hours = models.PositiveIntegerField(_("maximum CPU core-hours"), null=True, blank=True)
    max_storage_tb = models.DecimalField(_("maximum storage (TB)"), max_digits=8, decimal_places=2, null=True,
                                         blank=True)
    allowed_durations = models.JSONField(_("allowed durations (months)"), default=list)
    eligible_org_types = models.JSONField(_("eligible organisation types"), default=list, blank=True,
                                          help_text=_("Empty: every type."))
    eligible_sme_classes = models.JSONField(_("eligible SME classes"), default=list, blank=True,
                                            help_text=_("Empty: any class."))
    sla_working_days = models.PositiveSmallIntegerField(_("decision within (working days)"))
    requires_call = models.BooleanField(_("needs a call with a cut-off"), default=False)
    review_path = models.JSONField(_("review path"), default=dict, blank=True,
                                   help_text=_("e.g. {\"technical\": 1, \"scientific\": 2, \"committee\": true, "
                                               "\"right_to_reply\": true}"))
    rubric = models.JSONField(_("rubric"), default=list, blank=True,
                              help_text=_("Criteria: [{\"code\", \"label\", \"weight\", \"scale\": 5}]"))
    slurm_qos = models.CharField(_("Slurm QOS"), max_length=34, blank=True, validators=[slurm_name_validator])
    qos_limits = models.JSONField(_("QOS per-job limits"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("access mode")
        verbose_name_plural = _("access modes")

    def __str__(self):
        return self.name


class Call(models.Model):
    access_mode = models.ForeignKey(AccessMode, on_delete=models.PROTECT, related_name="calls")
    title = models.CharField(_("title"), max_length=200)
    opens_at = models.DateTimeField(_("opens"))
    cutoff_at = models.DateTimeField(_("cut-off"))

    class Meta:
        ordering = ["cutoff_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.CheckConstraint(condition=models.Q(cutoff_at__gt=models.F("opens_at")),
                                              name="call_cutoff_after_opening")]

    def __str__(self):
        return self.title
