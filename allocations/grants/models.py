"""Granted allocations, their per-site quotas and change requests."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from allocations.applications.models import Application
from allocations.catalogue.models import Site


class AllocationStatus(models.TextChoices):
    APPROVED = "approved", pgettext_lazy("allocation status", "Approved")
    PROVISIONING = "provisioning", _("Provisioning")
    ACTIVE = "active", pgettext_lazy("allocation status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("allocation status", "Suspended")
    EXPIRED = "expired", pgettext_lazy("allocation status", "Expired")
    REVOKED = "revoked", pgettext_lazy("allocation status", "Revoked")


class SyncState(models.TextChoices):
    IN_SYNC = "in_sync", _("In sync")
    NEEDS_SYNC = "needs_sync", _("Waiting for provisioning")
    ERROR = "error", _("Provisioning failed; will retry")
    HANDED_OVER = "handed_over", _("Handed over to operators")


class Allocation(models.Model):
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="allocation")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="allocations")
    reference = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=12, choices=AllocationStatus.choices, default=AllocationStatus.APPROVED,
                              db_index=True)
    start_date = models.DateField()
    end_date = models.DateField()
    slurm_account = models.CharField(max_length=34, unique=True)
    # Desired-state bookkeeping: written in the same transaction as every decision that changes what
    # the clusters should hold; the provisioning task clears it after a verified read-back.
    sync_state = models.CharField(max_length=12, choices=SyncState.choices, default=SyncState.NEEDS_SYNC,
                                  db_index=True)
    desired_version = models.PositiveIntegerField(default=1)
    synced_version = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(status__in=AllocationStatus.values),
                                              name="allocation_status_valid"),
                       models.CheckConstraint(condition=models.Q(end_date__gt=models.F("start_date")),
                                              name="allocation_end_after_start")]
        # The committee's allocation overview, newest first, one page at a time.
        indexes = [models.Index(fields=["-created_at", "-id"], name="allocation_created_idx")]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("grants:allocation_detail", args=[self.reference])

    @property
    def is_approved(self) -> bool:
        return self.status == AllocationStatus.APPROVED  # not yet provisioned

    @property
    def is_active(self) -> bool:
        return self.status == AllocationStatus.ACTIVE

    @property
    def is_ended(self) -> bool:
        return self.status in (AllocationStatus.EXPIRED, AllocationStatus.REVOKED)

    @property
    def is_in_sync(self) -> bool:
        return self.sync_state == SyncState.IN_SYNC


class AllocationQuota(models.Model):
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="quotas")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="quotas")
    gpu_hours = models.PositiveIntegerField(default=0)
    cpu_core_hours = models.PositiveIntegerField(default=0)
    storage_tb = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["allocation", "site"], name="quota_unique_site")]

    def __str__(self):
        return f"{self.allocation} @ {self.site}"


class CapacityReservation(models.Model):
    """The part of one allocation's quota on one site that is reserved in one quarter.

    The committed figures of ``SiteCapacity`` are the sums of these rows; the services that change
    them (grants.services.capacity_plan) change both in one transaction, under the capacity rows'
    locks. GPU and CPU hours are spread over the quarters the allocation spans; storage is held in
    every one of them."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="reservations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("quarter starting"))
    gpu_hours = models.PositiveBigIntegerField(default=0)
    cpu_core_hours = models.PositiveBigIntegerField(default=0)
    storage_tb = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["allocation", "site", "period_start"],
                                               name="reservation_unique_quarter")]
        indexes = [models.Index(fields=["period_start", "site"], name="reservation_period_idx")]
        verbose_name = _("capacity reservation")
        verbose_name_plural = _("capacity reservations")

    def __str__(self):
        return f"{self.allocation} @ {self.site} {self.period_start:%Y-%m}"


class ChangeKind(models.TextChoices):
    EXTENSION = "extension", _("Extension of the end date")
    TOP_UP = "top_up", _("Quota top-up")
    ADD_MEMBERS = "add_members", _("Add team members")


class ChangeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ChangeRequest(models.Model):
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="change_requests")
    kind = models.CharField(max_length=12, choices=ChangeKind.choices)
    payload = models.JSONField(default=dict)
    justification = models.TextField()
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.SUBMITTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    @property
    def is_open(self) -> bool:
        """Waiting for the managers' decision: the organisation may still withdraw it."""
        return self.status == ChangeStatus.SUBMITTED
