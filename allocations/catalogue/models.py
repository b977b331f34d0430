"""Reference data editable by staff: sites, their capacity, access modes and calls."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from allocations.aid.choices import CeilingPolicy, LegalBasis
from allocations.catalogue.backend_options import backend_options_validator
from allocations.catalogue.usernames import (
    DEFAULT_USERNAME_PATTERN,
    reserved_usernames_validator,
    username_pattern_validator,
)
from allocations.provisioning.slurm.validation import ACCOUNT_RE, PARTITION_RE

# The names the Slurm backends accept (provisioning.slurm.validation), checked when an operator types them.
slurm_name_validator = RegexValidator(
    rf"^{ACCOUNT_RE.pattern}$", _("Lowercase letters, digits and underscores, starting with a letter."))


partition_list_validator = RegexValidator(
    rf"^{PARTITION_RE.pattern}(,{PARTITION_RE.pattern})*$",
    _("Partition names separated by commas, without spaces: lowercase letters, digits, _ and -, each starting "
      "with a letter."))


# Fair-share shares an operator may give an account (Slurm keeps them in 32 bits).
FAIRSHARE_MAX = 1_000_000


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


class IdentityBackend(models.TextChoices):
    """Where a site's team members get their POSIX identity (docs/identity.md)."""

    CONFIRMED_USERNAME = "confirmed_username", _("Username the person confirms (must exist on the site)")
    DIRECTORY = "directory", _("LDAP directory (looked up or created, bound to the sign-in identity)")


class StorageBackend(models.TextChoices):
    """How a site's granted storage reaches its file systems (docs/storage.md)."""

    HANDOVER = "handover", _("Hand-over: the site's operators set it up and confirm it")
    DIRECTORY_QUOTA = "directory_quota", _("Quota written to the site's LDAP directory and read back")
    NONE = "none", _("None (the site offers no storage)")


class StorageAtEnd(models.TextChoices):
    """What happens to an allocation's storage quota when it is revoked or expires."""

    RELEASE = "release", _("Release the quota")
    KEEP = "keep", _("Keep the quota (the site releases it by hand)")


STORAGE_PATH_FIELDS = ("account", "site", "organisation")
storage_path_validator = RegexValidator(
    r"^/[A-Za-z0-9._/{}-]*\{account\}[A-Za-z0-9._/{}-]*$",
    _("An absolute path of letters, digits, dots, hyphens and underscores that contains {account}, "
      "e.g. /projects/{account}; {site} and {organisation} may be used too."))


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
    backend_options = models.JSONField(
        _("backend options"), default=dict, blank=True, validators=[backend_options_validator],
        help_text=_("Harmless tuning as JSON (timeout, use_load, fallback_to_sacctmgr, token_lifespan). Executables, "
                    "command prefixes, environment, URLs and keys come from the settings only."))
    identity_backend = models.CharField(
        _("identity backend"), max_length=20, choices=IdentityBackend.choices,
        default=IdentityBackend.CONFIRMED_USERNAME,
        help_text=_("How team members get their account on this site's clusters."))
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
    handover_email = models.EmailField(
        _("hand-over e-mail"), blank=True,
        help_text=_("For a site provisioned by hand: where each hand-over task is mailed (the remote operators). "
                    "Empty: the portal's operators get it."))
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
    storage_backend = models.CharField(
        _("storage backend"), max_length=20, choices=StorageBackend.choices, default=StorageBackend.HANDOVER,
        help_text=_("How granted storage is provisioned on this site. “None” only for a site that offers no "
                    "storage."))
    storage_path_template = models.CharField(
        _("project directory"), max_length=200, default="/projects/{account}", validators=[storage_path_validator],
        help_text=_("Where each project's directory lives; {account} is the project's Slurm account."))
    storage_at_end = models.CharField(
        _("storage at revocation or expiry"), max_length=10, choices=StorageAtEnd.choices,
        default=StorageAtEnd.RELEASE)
    # What the portal writes on every account association of the site (docs/slurm.md, "What the portal owns").
    default_qos = models.CharField(
        _("default QOS"), max_length=34, blank=True, validators=[slurm_name_validator],
        help_text=_("The QOS a job gets on this site when it names none; the access mode's QOS stays allowed. "
                    "The QOS must exist in Slurm. Empty: the access mode's QOS."))
    fairshare = models.PositiveIntegerField(
        _("fair-share shares"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(FAIRSHARE_MAX)],
        help_text=_("Shares of each organisation account and, unless its access mode sets its own, of each project "
                    "account on this site. Empty: 1, Slurm's default."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(storage_backend="none", offers_storage=True), name="site_storage_backend_offered"),
        ]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.storage_backend == StorageBackend.NONE and self.offers_storage:
            errors["storage_backend"] = _("A site that offers storage needs a storage backend: choose hand-over "
                                          "or the directory quota.")
        by_hand = self.provisioning_mode == ProvisioningMode.HANDOVER
        if self.storage_backend == StorageBackend.DIRECTORY_QUOTA and by_hand:
            errors["storage_backend"] = _("The portal does not reach the directory of a site provisioned by hand: "
                                          "use the hand-over storage backend.")
        template = self.storage_path_template or ""
        unknown = sorted(set(re.findall(r"\{([^}]*)\}", template)) - set(STORAGE_PATH_FIELDS))
        if unknown or ".." in template:
            errors["storage_path_template"] = _("Only {account}, {site} and {organisation} may be used, and no "
                                                "“..”.")
        if errors:
            raise ValidationError(errors)

    def storage_path(self, *, account: str, organisation_id: int) -> str:
        """The project directory of ``account`` on this site, from the site's template."""
        return self.storage_path_template.format(account=account, site=self.code, organisation=organisation_id)

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


def next_quarter(period_start: datetime.date) -> datetime.date:
    return quarter_start(period_start + datetime.timedelta(days=93))


def quarter_label(period_start: datetime.date) -> str:
    return f"{period_start:%Y}-Q{(period_start.month - 1) // 3 + 1}"


def quarter_days(start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, int]]:
    """The quarters that [start, end] (both days included) spans, each with its number of days in the span."""
    spans = []
    period = quarter_start(start)
    while period <= end:
        following = next_quarter(period)
        first, last = max(period, start), min(following - datetime.timedelta(days=1), end)
        spans.append((period, (last - first).days + 1))
        period = following
    return spans


def spread_pro_rata(total: int, start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, int]]:
    """``total`` hours spread over the quarters of [start, end] by their number of days.

    Each quarter but the last gets the floor of its share; the last gets the remainder, so the parts
    always add up to ``total`` exactly (and no quarter gets more than its share plus the rounding)."""
    spans = quarter_days(start, end)
    if not spans:
        return []
    days = sum(n for _period, n in spans)
    parts = [(period, total * n // days) for period, n in spans[:-1]]
    parts.append((spans[-1][0], total - sum(hours for _period, hours in parts)))
    return parts


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
        return f"{self.site} {quarter_label(self.period_start)}"

    @property
    def remaining_gpu_hours(self) -> int:
        return self.gpu_hours - self.committed_gpu_hours

    @property
    def remaining_cpu_core_hours(self) -> int:
        return self.cpu_core_hours - self.committed_cpu_core_hours


class FinalReportSection(models.TextChoices):
    """The parts of a final report an access mode may ask for (AccessMode.final_report_sections)."""

    RESULTS = "results", _("Results")
    LESSONS = "lessons", _("Lessons learned")
    COMPUTE_USE = "compute_use", _("How the compute was used")
    AI_ACT = "ai_act", _("Whether the AI Act assessment still holds")


def all_final_report_sections() -> list[str]:
    return list(FinalReportSection.values)


def final_report_sections_validator(value) -> None:
    if not isinstance(value, list) or any(v not in FinalReportSection.values for v in value):
        raise ValidationError(_("A JSON list of sections among: %(sections)s.") % {
            "sections": ", ".join(FinalReportSection.values)})


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
    final_report_days = models.PositiveSmallIntegerField(
        _("final report due (days after the end)"), null=True, blank=True,
        help_text=_("Days after the allocation's end date by which the organisation files its final report. "
                    "0 or empty: no final report."))
    final_report_blocks_submission = models.BooleanField(
        _("an overdue final report blocks new applications"), default=False,
        help_text=_("While a final report of this mode is overdue, its organisation cannot submit a new "
                    "application (an allocation manager may grant an override)."))
    final_report_sections = models.JSONField(
        _("final report sections"), default=all_final_report_sections, blank=True,
        validators=[final_report_sections_validator],
        help_text=_("What the final report asks, as a JSON list among: results, lessons, compute_use, ai_act."))
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    # State aid (allocations/aid, docs/aid.md): settings the operator chooses, never decided in code.
    aid_legal_basis = models.CharField(
        _("legal basis of the free access"), max_length=20, choices=LegalBasis.choices, default=LegalBasis.NONE,
        help_text=_("Whether free access under this mode is aid and on which basis; ask your legal adviser. "
                    "Every basis but “none” records the value of each grant in the aid ledger."))
    aid_legal_basis_article = models.CharField(
        _("block-exemption article"), max_length=200, blank=True,
        help_text=_("For aid under a block exemption: the regulation and article, e.g. Regulation (EU) No "
                    "651/2014, Article 25."))
    aid_ceiling_policy = models.CharField(
        _("above the de minimis ceiling"), max_length=10, choices=CeilingPolicy.choices,
        default=CeilingPolicy.REFUSE,
        help_text=_("For de minimis aid: what a decision does when the grant would take the single undertaking "
                    "above the ceiling over three years."))

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("access mode")
        verbose_name_plural = _("access modes")
        constraints = [models.CheckConstraint(condition=models.Q(aid_legal_basis__in=LegalBasis.values),
                                              name="access_mode_aid_legal_basis_valid")]

    def __str__(self):
        return self.name

    @property
    def asks_final_report(self) -> bool:
        return bool(self.final_report_days)
    def clean(self):
        super().clean()
        if self.aid_legal_basis == LegalBasis.BLOCK_EXEMPTION and not self.aid_legal_basis_article.strip():
            raise ValidationError({"aid_legal_basis_article": _("Name the block-exemption article.")})

    @property
    def is_de_minimis(self) -> bool:
        return self.aid_legal_basis == LegalBasis.DE_MINIMIS

    @property
    def grants_aid(self) -> bool:
        """Whether each grant's value is recorded in the aid ledger."""
        return self.aid_legal_basis != LegalBasis.NONE


class SiteAccessMode(models.Model):
    """What the portal writes on the Slurm accounts of one access mode on one site (docs/slurm.md). Every value
    is optional: empty leaves the site's default (fair share, default QOS) or no limit."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="mode_settings", verbose_name=_("site"))
    access_mode = models.ForeignKey(AccessMode, on_delete=models.CASCADE, related_name="site_settings",
                                    verbose_name=_("access mode"))
    fairshare = models.PositiveIntegerField(
        _("fair-share shares"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(FAIRSHARE_MAX)],
        help_text=_("Shares of each project account of this access mode on this site. Empty: the site's."))
    default_qos = models.CharField(
        _("default QOS"), max_length=34, blank=True, validators=[slurm_name_validator],
        help_text=_("The QOS a job of this access mode gets on this site when it names none; the access mode's QOS "
                    "stays allowed. Empty: the site's, or else the access mode's."))
    max_running_jobs = models.PositiveIntegerField(
        _("running jobs per user"), null=True, blank=True, validators=[MaxValueValidator(FAIRSHARE_MAX)],
        help_text=_("Slurm MaxJobs of each project account. Empty: no limit."))
    max_job_hours = models.PositiveIntegerField(
        _("longest job (hours)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(8760)],
        help_text=_("Slurm MaxWall of each project account. Empty: the partition's and the QOS's limits only."))
    max_gpus_at_once = models.PositiveIntegerField(
        _("GPUs in use at once"), null=True, blank=True, validators=[MaxValueValidator(FAIRSHARE_MAX)],
        help_text=_("Slurm GrpTRES gres/gpu of each project account: GPUs its jobs hold together. Empty: no limit."))
    partitions = models.CharField(
        _("partitions"), max_length=200, blank=True, validators=[partition_list_validator],
        help_text=_("The only partitions the project members of this access mode may run in on this site, separated "
                    "by commas (gpu,debug): each member gets one Slurm association per partition, and a job in "
                    "another partition is refused. Empty: associations name no partition, and the partitions' "
                    "own settings (AllowAccounts, AllowQos) decide."))

    class Meta:
        ordering = ["site", "access_mode"]
        verbose_name = _("Slurm settings of an access mode on a site")
        verbose_name_plural = _("Slurm settings of access modes on sites")
        constraints = [models.UniqueConstraint(fields=["site", "access_mode"], name="site_access_mode_unique")]

    def __str__(self):
        return f"{self.site} / {self.access_mode}"

    @property
    def partition_list(self) -> tuple[str, ...]:
        return tuple(p for p in self.partitions.split(",") if p)


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
