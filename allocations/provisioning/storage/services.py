"""Granted storage on each site, provisioned through the site's storage backend (docs/storage.md).

The desired storage of an allocation on a site is its quota's ``storage_tb`` while the allocation has not
ended; once it is revoked or expires, 0 where the site releases storage at the end (``Site.storage_at_end``)
and the granted figure where it keeps it. `storage_sync` pushes it, called by every provisioning run of the
allocation (`provisioning.services.sync_allocation`) for each of its sites:

- ``handover``: the request (project directory from the site's template, quota in TB, group = the project's
  Slurm account and posixGroup, owner) becomes a storage `HandoverTask`: one open per allocation and site, a
  changed request supersedes it, mailed to the site's hand-over address. The quota counts as provisioned
  only once an operator marks the task done (`storage_handover_confirmed`).
- ``directory_quota``: the quota is written to the project's entry in the site's directory and read back
  (`quota.DirectoryQuota`); a full reconcile reads every project's quota again and corrects a difference
  (`storage_reconcile_site`), the operator's site page shows it (`storage_read_site`).
- ``none``: the site offers no storage (validated on the site).

`StorageProvision` keeps, per allocation and site, what is requested and what the site holds as far as the
portal knows: the pages never call storage "provisioned" before a read-back or an operator's confirmation.
Every change is in the audit trail."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site, StorageAtEnd, StorageBackend
from allocations.grants.models import Allocation, AllocationQuota
from allocations.grants.workflow import TERMINAL
from allocations.provisioning.identity.config import directory_config, directory_config_problems
from allocations.provisioning.identity.ldap import Directory, DirectoryError
from allocations.provisioning.identity.services import directory_logins, is_directory_site
from allocations.provisioning.models import (
    HandoverKind,
    HandoverTask,
    StorageProvision,
    StorageStatus,
    SyncAttempt,
    SyncAttemptKind,
    SyncOutcome,
)
from allocations.provisioning.recipients import handover_recipients
from allocations.provisioning.storage.quota import DirectoryQuota, QuotaLocation, tb_to_units, units_to_tb
from portal.audit import AuditAction, audit_record
from portal.emails import portal_url, send_templated_email_on_commit

logger = logging.getLogger(__name__)

__all__ = ["storage_sync", "storage_handover_confirmed", "storage_read_site", "storage_reconcile_site",
           "storage_desired_tb", "storage_request", "quota_location", "StorageConfigError"]

ZERO = Decimal("0.00")


class StorageConfigError(DirectoryError):
    """The site's directory quota is not configured in the settings."""


def provides_storage(site: Site) -> bool:
    return site.offers_storage and site.storage_backend != StorageBackend.NONE


# ------------------------------------------------------------------------------------ desired state

def storage_desired_tb(allocation: Allocation, site: Site, quota: AllocationQuota | None) -> Decimal:
    """What the site should hold for the allocation: the granted TB, or 0 once it ended on a site that
    releases storage at the end (or when the allocation has no quota there any more)."""
    if quota is None:
        return ZERO
    if allocation.status in TERMINAL and site.storage_at_end == StorageAtEnd.RELEASE:
        return ZERO
    return Decimal(quota.storage_tb).quantize(Decimal("0.01"))


def _owner(allocation: Allocation, site: Site) -> str:
    """The cluster login of the person who applied, when they are on the confirmed team; else the first
    confirmed member's (by login). On a directory site, the login of their bound account."""
    members = list(TeamMember.objects.confirmed().filter(application_id=allocation.application_id)
                   .values_list("user_id", "cluster_username"))
    if is_directory_site(site):
        logins = directory_logins(site, {user_id for user_id, _name in members if user_id})
        members = [(user_id, logins.get(user_id, "")) for user_id, _name in members]
    applicant = allocation.application.created_by_id
    for user_id, login in members:
        if user_id == applicant and login:
            return login
    return min((login for _user, login in members if login), default="")


def storage_request(allocation: Allocation, site: Site, tb: Decimal) -> dict:
    """The exact request for the site: project directory, group, owner and quota in TB (as text)."""
    return {"path": site.storage_path(account=allocation.slurm_account, organisation_id=allocation.organisation_id),
            "group": allocation.slurm_account, "owner": _owner(allocation, site), "quota_tb": f"{tb:.2f}"}


# ------------------------------------------------------------------------------------ one allocation

def storage_sync(*, allocation_id: int, site: Site) -> str:
    """Push the allocation's storage on ``site`` through the site's backend; "" when done (or nothing to do),
    else the error (the run records it and retries)."""
    if not provides_storage(site):
        return ""
    allocation = (Allocation.objects.select_related("application", "organisation").filter(pk=allocation_id).first())
    if allocation is None:
        return ""
    quota = AllocationQuota.objects.filter(allocation=allocation, site=site).first()
    want = storage_desired_tb(allocation, site, quota)
    row = StorageProvision.objects.filter(allocation=allocation, site=site).first()
    if row is None and want == ZERO:
        return ""  # nothing granted, nothing to release
    request = storage_request(allocation, site, want)
    if site.storage_backend == StorageBackend.HANDOVER:
        _handover_storage(allocation, site, request, want)
        return ""
    return _directory_storage(allocation, site, request, want)


def _row(allocation: Allocation, site: Site) -> StorageProvision:
    row, _created = StorageProvision.objects.select_for_update().get_or_create(
        allocation=allocation, site=site, defaults={"backend": site.storage_backend})
    return row


def _handover_storage(allocation: Allocation, site: Site, request: dict, want: Decimal) -> HandoverTask | None:
    """Open (or keep) the storage hand-over task of ``request``. Nothing when the open task already asks for
    it, or when the site confirmed exactly this before and nothing is open."""
    with transaction.atomic():
        row = _row(allocation, site)
        tasks = HandoverTask.objects.filter(allocation=allocation, site=site, kind=HandoverKind.STORAGE)
        current = tasks.select_for_update().filter(done_at=None, superseded_at=None).first()
        if current is not None and current.changes == request:
            return current
        confirmed = row.provisioned_tb is not None and row.provisioned_tb == want and \
            (row.path, row.group, row.owner) == (request["path"], request["group"], request["owner"])
        if current is None and confirmed:
            return None
        previous = tasks.exclude(done_at=None).order_by("-pk").first()
        fields = [{"account": allocation.slurm_account, "field": name, "value": request[name]}
                  for name in ("path", "group", "owner", "quota_tb")]
        if current is not None:  # out of the open set first: one open task per allocation, site and kind
            HandoverTask.objects.filter(pk=current.pk).update(superseded_at=timezone.now())
        task = HandoverTask.objects.create(
            site=site, allocation=allocation, kind=HandoverKind.STORAGE, changes=request, fields=fields,
            commands=[], desired_version=allocation.desired_version)
        if current is not None:
            HandoverTask.objects.filter(pk=current.pk).update(superseded_by=task)
        row.backend, row.status, row.requested_tb, row.error = site.storage_backend, StorageStatus.HANDED_OVER, want, ""
        row.path, row.group, row.owner = request["path"], request["group"], request["owner"]
        row.save(update_fields=["backend", "status", "requested_tb", "error", "path", "group", "owner", "updated_at"])
        SyncAttempt.objects.create(site=site, allocation=allocation, kind=SyncAttemptKind.STORAGE,
                                   outcome=SyncOutcome.HANDED_OVER, finished_at=timezone.now(), duration_ms=0)
        audit_record(actor=None, action=AuditAction.STORAGE_HANDED_OVER, target=allocation,
                     changes={"site": site.code, "task": task.pk, "quota_tb": request["quota_tb"],
                              "previous_tb": None if previous is None else previous.changes.get("quota_tb"),
                              "superseded": None if current is None else current.pk})
        send_templated_email_on_commit(
            to=handover_recipients(site), template="allocations/email/storage_handover_task",
            context={"reference": allocation.reference, "site": site.name, "path": request["path"],
                     "group": request["group"], "owner": request["owner"], "quota_tb": want,
                     "release": want == ZERO, "previous_tb": row.provisioned_tb,
                     "superseded": current is not None,
                     "url": portal_url(reverse("provisioning:overview")) + f"#handover-{task.pk}"})
    return task


def storage_handover_confirmed(*, actor, task: HandoverTask) -> None:
    """The site's operators did what a storage task asked: its quota is what the site holds now. Called by
    `provisioning.services.handover_done` inside its transaction, with the task locked and not superseded."""
    row = _row(task.allocation, task.site)
    tb = Decimal(task.changes["quota_tb"])
    row.provisioned_tb, row.provisioned_at, row.error = tb, timezone.now(), ""
    row.path, row.group, row.owner = task.changes["path"], task.changes["group"], task.changes["owner"]
    row.status = StorageStatus.PROVISIONED if tb > 0 else StorageStatus.RELEASED
    row.save(update_fields=["provisioned_tb", "provisioned_at", "error", "path", "group", "owner", "status",
                            "updated_at"])
    audit_record(actor=actor, action=AuditAction.STORAGE_RELEASED if tb == 0 else AuditAction.STORAGE_PROVISIONED,
                 target=task.allocation, changes={"site": task.site.code, "quota_tb": task.changes["quota_tb"],
                                                  "task": task.pk, "confirmed_by": "operator"})


# ------------------------------------------------------------------------------------ directory quota

def quota_location(site: Site) -> QuotaLocation:
    """The site's quota attribute, from AIF_STORAGE_DIRECTORY_QUOTA (settings only, never the database)."""
    options = (getattr(settings, "AIF_STORAGE_DIRECTORY_QUOTA", {}) or {}).get(site.code)
    if not isinstance(options, dict):
        raise StorageConfigError(f"AIF_STORAGE_DIRECTORY_QUOTA has no entry for the site {site.code}")
    location = QuotaLocation(base_dn=options.get("base_dn") or settings.AIF_DIRECTORY_GROUPS_DN,
                             attribute=options.get("attribute", ""), unit=options.get("unit", "GB"),
                             object_class=options.get("object_class", ""))
    problems = location.problems() + directory_config_problems()
    if problems:
        raise StorageConfigError(f"the directory quota of {site.code} is not configured: " + "; ".join(problems))
    return location


class _Quotas:
    """An open directory with the site's quota location (``with _Quotas(site) as quotas``)."""

    def __init__(self, site: Site) -> None:
        self.location = quota_location(site)
        self.directory = Directory(directory_config())

    def __enter__(self) -> DirectoryQuota:
        return DirectoryQuota(self.directory.__enter__(), self.location)

    def __exit__(self, *exc) -> None:
        self.directory.__exit__(*exc)


def _directory_storage(allocation: Allocation, site: Site, request: dict, want: Decimal) -> str:
    started = time.monotonic()
    with transaction.atomic():
        row = _row(allocation, site)
        if want == ZERO and row.provisioned_tb is None:  # never written: nothing to release
            row.status, row.requested_tb, row.error = StorageStatus.RELEASED, want, ""
            row.save(update_fields=["status", "requested_tb", "error", "updated_at"])
            return ""
        same = (row.path, row.group, row.owner) == (request["path"], request["group"], request["owner"])
        if row.status in (StorageStatus.PROVISIONED, StorageStatus.RELEASED) and row.provisioned_tb == want \
                and same and not row.read_differs:
            return ""  # the last write was read back; a full reconcile checks it again
        previous = row.provisioned_tb
        row.requested_tb, row.path, row.group, row.owner = want, request["path"], request["group"], request["owner"]
        try:
            with _Quotas(site) as quotas:
                actual = quotas.write(allocation.slurm_account, tb_to_units(want, quotas.location.unit))
                read_tb = units_to_tb(actual, quotas.location.unit)
        except DirectoryError as exc:
            error = f"storage: {exc}"
            row.status, row.error = StorageStatus.ERROR, error[:5000]
            row.save(update_fields=["status", "error", "requested_tb", "path", "group", "owner", "updated_at"])
            SyncAttempt.objects.create(site=site, allocation=allocation, kind=SyncAttemptKind.STORAGE,
                                       outcome=SyncOutcome.ERROR, finished_at=timezone.now(), error=error[:5000],
                                       duration_ms=int((time.monotonic() - started) * 1000))
            logger.warning("storage of %s on %s failed: %s", allocation.slurm_account, site.code, exc)
            return error
        now = timezone.now()
        row.status = StorageStatus.PROVISIONED if want > 0 else StorageStatus.RELEASED
        row.provisioned_tb, row.provisioned_at, row.error = want, now, ""
        row.read_tb, row.read_at, row.read_differs = read_tb, now, False
        row.save()
        SyncAttempt.objects.create(site=site, allocation=allocation, kind=SyncAttemptKind.STORAGE,
                                   outcome=SyncOutcome.SUCCESS, finished_at=now,
                                   duration_ms=int((time.monotonic() - started) * 1000),
                                   drift=[f"storage {allocation.slurm_account}: {previous} -> {want} TB"])
        audit_record(actor=None, action=AuditAction.STORAGE_RELEASED if want == 0 else AuditAction.STORAGE_PROVISIONED,
                     target=allocation, changes={"site": site.code, "quota_tb": f"{want:.2f}",
                                                 "previous_tb": None if previous is None else f"{previous:.2f}",
                                                 "confirmed_by": "read_back"})
    return ""


def storage_read_site(*, site: Site, fix: bool = False) -> tuple[list[dict], list[str]]:
    """Read the quota of every project of a directory-quota site at once and compare it with what the portal
    provisioned (the rows of the site page: account, field, desired, actual, differs; the changes a reconcile
    would make). With ``fix`` the differing quotas are written again and read back (a full reconcile).

    Raises DirectoryError when the directory cannot be read (the caller keeps its previous read)."""
    if site.storage_backend != StorageBackend.DIRECTORY_QUOTA or not site.offers_storage:
        return [], []
    rows = list(StorageProvision.objects.filter(site=site).exclude(provisioned_tb=None)
                .select_related("allocation").order_by("allocation__slurm_account"))
    if not rows:
        return [], []
    compared, changes = [], []
    with _Quotas(site) as quotas:
        unit = quotas.location.unit
        read = quotas.read_many([row.allocation.slurm_account for row in rows])
        now = timezone.now()
        for row in rows:
            account = row.allocation.slurm_account
            value = read[account]
            differs = value is False or value != tb_to_units(row.provisioned_tb, unit)
            actual = None if value is False else ("" if value is None else f"{units_to_tb(value, unit):.2f}")
            compared.append({"account": account, "field": "storage_quota", "desired": f"{row.provisioned_tb:.2f}",
                             "actual": actual, "differs": differs})
            if differs:
                changes.append(f"storage {account}: {actual or '-'} -> {row.provisioned_tb:.2f} TB")
            if differs and fix and value is not False:
                with transaction.atomic():
                    value = quotas.write(account, tb_to_units(row.provisioned_tb, unit))
                    audit_record(actor=None, action=AuditAction.STORAGE_DRIFT_FIXED, target=row.allocation,
                                 changes={"site": site.code, "found_tb": actual,
                                          "quota_tb": f"{row.provisioned_tb:.2f}"})
                differs = False
            StorageProvision.objects.filter(pk=row.pk).update(
                read_tb=None if value in (None, False) else units_to_tb(value, unit), read_at=now,
                read_differs=differs)
    return compared, changes


def storage_reconcile_site(*, site: Site, dry_run: bool = False) -> list[str]:
    """The storage part of a full reconcile: every project's quota read, differences corrected unless
    ``dry_run``; returns the differences found."""
    _rows, changes = storage_read_site(site=site, fix=not dry_run)
    return changes
