"""Provisioning records: every sync attempt, recorded intended changes, hand-over tasks, usage."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from allocations.catalogue.models import Site
from allocations.grants.models import Allocation


class SyncOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    NOOP = "noop", _("No change needed")
    DRIFT_FIXED = "drift_fixed", _("Drift found and fixed")
    ERROR = "error", _("Error")
    HANDED_OVER = "handed_over", _("Handed over")
    DRY_RUN = "dry_run", _("Dry run: differences found, nothing changed")


class SyncAttemptKind(models.TextChoices):
    # Not (yet) the field's choices: that would need a migration; the values are the stored ones.
    ALLOCATION = "allocation", _("One allocation")
    FULL_RECONCILE = "full_reconcile", _("Full reconciliation of the site")
    BOOTSTRAP = "bootstrap", _("Site bootstrap")
    STORAGE = "storage", _("Storage quota")


class ComparedSetting(models.TextChoices):
    """The settings of a Slurm account that the planner compares (allocations.provisioning.slurm.plan)."""

    PARENT = "parent", _("Parent account")
    LIMITS = "limits", _("Quota (GrpTRESMins, minutes)")
    GRP_TRES = "grp_tres", _("Resources in use at once (GrpTRES)")
    GRP_SUBMIT_JOBS = "grp_submit_jobs", _("GrpSubmitJobs (0: new jobs refused)")
    GRP_JOBS = "grp_jobs", _("GrpJobs (0: no job starts)")
    MAX_JOBS = "max_jobs", _("Running jobs per user (MaxJobs)")
    MAX_WALL = "max_wall", _("Longest job (MaxWall, minutes)")
    QOS = "qos", _("QOS")
    DEFAULT_QOS = "default_qos", _("Default QOS")
    FAIRSHARE = "fairshare", _("Fair-share shares")
    USERS = "users", _("Users")
    PARTITIONS = "partitions", _("Users per partition")
    # Not Slurm: the storage quota a directory-quota site keeps in its directory (storage.services).
    STORAGE_QUOTA = "storage_quota", _("Storage quota (TB)")


class SyncAttempt(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="sync_attempts")
    allocation = models.ForeignKey(Allocation, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="sync_attempts")
    kind = models.CharField(max_length=20, default="allocation")  # allocation | full_reconcile | bootstrap
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=SyncOutcome.choices, default=SyncOutcome.RUNNING)
    commands = models.JSONField(default=list, blank=True)
    drift = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["site", "-started_at"], name="sync_site_started_idx")]

    @property
    def is_error(self) -> bool:
        return self.outcome == SyncOutcome.ERROR


class RecordedChange(models.Model):
    """What the `record` backend would have applied: for deployments without Slurm."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="recorded_changes")
    account = models.CharField(max_length=34)
    change = models.JSONField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]


class HandoverKind(models.TextChoices):
    SLURM = "slurm", _("Slurm account")
    STORAGE = "storage", _("Storage")


class HandoverTask(models.Model):
    """What the remote operators of a site must apply by hand for one desired version.

    ``kind`` slurm: the Slurm account of a hand-over site; storage: the project directory and its quota on
    a site whose storage backend is hand-over (``changes`` holds the request, ``fields`` the values to
    confirm). At most one task per allocation, site and kind is open: a newer desired state supersedes the
    open task (``superseded_by``), so an operator never applies or closes an outdated one."""

    kind = models.CharField(max_length=10, choices=HandoverKind.choices, default=HandoverKind.SLURM)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="handover_tasks")
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="handover_tasks")
    changes = models.JSONField()
    # The sacctmgr command lines the remote operators run, rendered from the plan against what the last
    # task done put there, and the settings they confirm afterwards (account, setting, value).
    commands = models.JSONField(default=list, blank=True)
    fields = models.JSONField(default=list, blank=True)
    desired_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    note = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "site", "kind"],
                                    condition=models.Q(done_at=None, superseded_at=None),
                                    name="handover_one_open_per_site_kind"),
        ]

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.superseded_at is None


class JobActionKind(models.TextChoices):
    HOLD = "hold", _("Pending jobs held")
    RELEASE = "release", _("Held jobs released")
    CANCEL = "cancel", _("Jobs cancelled")


class JobAction(models.Model):
    """What the portal did to the jobs of an allocation's account on one site (suspension holds pending
    jobs, resumption releases them, revocation and expiry cancel), with the job ids it touched.

    ``intended``: the backend has no Slurm to act on and only recorded the intention (no job ids)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="job_actions")
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="job_actions")
    action = models.CharField(max_length=10, choices=JobActionKind.choices)
    job_ids = models.JSONField(default=list, blank=True)
    running_job_ids = models.JSONField(default=list, blank=True)
    intended = models.BooleanField(default=False)
    allocation_status = models.CharField(max_length=12)
    commands = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["allocation", "site", "-created_at"], name="job_action_alloc_site_idx")]


class UsageSnapshot(models.Model):
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="usage_snapshots")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)
    gpu_minutes = models.PositiveBigIntegerField(default=0)
    cpu_minutes = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["allocation", "site", "-taken_at"], name="usage_alloc_site_idx")]


class ReadbackStatus(models.TextChoices):
    QUEUED = "queued", _("Read requested, waiting for a worker")
    DONE = "done", _("Read")
    ERROR = "error", _("The read failed")


class SiteReadback(models.Model):
    """The last read of one site's Slurm, compared with the desired state by the planner.

    Written by a task (``services.read_site_state``): the operator's site page renders this row and never
    calls Slurm itself (the audit trail says who asked for a read). ``rows`` holds the planner's
    comparison (account, setting, desired, actual, differs; actual None: the account is missing),
    ``changes`` what a reconcile would have changed at ``read_at``."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="readback")
    status = models.CharField(max_length=10, choices=ReadbackStatus.choices, default=ReadbackStatus.QUEUED)
    requested_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    rows = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)


class StorageStatus(models.TextChoices):
    PENDING = "pending", _("Pending: being written")
    HANDED_OVER = "handed_over", _("Pending: waiting for the site's operators")
    PROVISIONED = "provisioned", _("Provisioned")
    RELEASED = "released", _("Released")
    ERROR = "error", _("Failed; will retry")


class StorageProvision(models.Model):
    """The storage of one allocation on one site: what the grant asks for (``requested_tb``, 0 once released)
    and what the site holds as the portal last knew it (``provisioned_tb``: read back from the directory, or
    confirmed by the site's operators; None: never provisioned). Written by `storage.services` only.

    ``path``, ``group`` and ``owner`` are the request as last computed; ``read_tb`` and ``read_at`` the last
    read of a directory-quota site (the drift check), ``read_tb`` None: the directory holds no quota, and
    ``read_differs`` whether it differed from the quota provisioned."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="storage")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="storage")
    backend = models.CharField(max_length=20)
    status = models.CharField(max_length=12, choices=StorageStatus.choices, default=StorageStatus.PENDING)
    requested_tb = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    provisioned_tb = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    group = models.CharField(max_length=34, blank=True)
    owner = models.CharField(max_length=32, blank=True)
    provisioned_at = models.DateTimeField(null=True, blank=True)
    read_tb = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_differs = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "allocation"]
        constraints = [models.UniqueConstraint(fields=["allocation", "site"], name="storage_one_per_site")]

    @property
    def is_provisioned(self) -> bool:
        return self.status in (StorageStatus.PROVISIONED, StorageStatus.RELEASED)
