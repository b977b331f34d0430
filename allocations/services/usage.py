"""Usage flows back from the clusters: snapshots per allocation and site, e-mails at 80 % and 100 %."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Membership
from portal.audit import AuditAction, audit_record
from portal.emails import send_templated_email_on_commit
from portal.models import AuditEvent

from ..models import AllocationQuota, AllocationStatus, Site, UsageSnapshot
from .provisioning import backend_for, backend_kind

THRESHOLDS = (80, 100)
REPORTED_STATUSES = [AllocationStatus.PROVISIONING, AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED,
                     AllocationStatus.EXPIRED]


def pull_usage(*, site: Site) -> int:
    """One sshare call per site (chunked by the backend); returns the number of snapshots stored."""
    if backend_kind(site) == "handover":
        return 0
    quotas = list(AllocationQuota.objects.filter(site=site, allocation__status__in=REPORTED_STATUSES)
                  .select_related("allocation"))
    if not quotas:
        return 0
    used = backend_for(site).usage(site.slurm_cluster, [q.allocation.slurm_account for q in quotas])
    stored = 0
    for quota in quotas:
        figures = used.get(quota.allocation.slurm_account)
        if figures is None:
            continue
        with transaction.atomic():
            UsageSnapshot.objects.create(allocation=quota.allocation, site=site,
                                         gpu_minutes=figures.get("gpu_minutes", 0),
                                         cpu_minutes=figures.get("cpu_minutes", 0))
            _notify_thresholds(quota, figures)
        stored += 1
    return stored


def used_fraction(quota: AllocationQuota, figures: dict[str, int]) -> float:
    fractions = []
    if quota.gpu_hours:
        fractions.append(figures.get("gpu_minutes", 0) / (quota.gpu_hours * 60))
    if quota.cpu_core_hours:
        fractions.append(figures.get("cpu_minutes", 0) / (quota.cpu_core_hours * 60))
    return max(fractions, default=0.0)


def _notify_thresholds(quota: AllocationQuota, figures: dict[str, int]) -> None:
    percent = used_fraction(quota, figures) * 100
    allocation = quota.allocation
    for threshold in THRESHOLDS:
        if percent < threshold:
            continue
        already = AuditEvent.objects.filter(
            action="usage.threshold_reached", object_type="allocations.allocation", object_id=str(allocation.pk),
            changes__site=quota.site.code, changes__threshold=threshold).exists()
        if already:
            continue
        audit_record(actor=None, action=AuditAction.USAGE_THRESHOLD_REACHED, target=allocation,
                     changes={"site": quota.site.code, "threshold": threshold, "percent": round(percent, 1)})
        recipients = list(Membership.objects.filter(organisation_id=allocation.organisation_id)
                          .values_list("user__email", flat=True))
        send_templated_email_on_commit(
            to=recipients, template="allocations/email/usage_threshold",
            context={"reference": allocation.reference, "site": quota.site.name, "threshold": threshold,
                     "percent": round(percent, 1)})


def usage_series(allocation):
    """Snapshots per site, oldest first, for the usage chart."""
    series: dict[str, list[UsageSnapshot]] = {}
    for snap in allocation.usage_snapshots.select_related("site").order_by("taken_at"):
        series.setdefault(snap.site.name, []).append(snap)
    return series
