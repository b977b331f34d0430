"""Directory-quota storage on a real slapd (scripts/ldap-stack.sh): the quota written on the project's
posixGroup and read back, changed, a difference made by hand found by the site read and corrected by a full
reconcile, released at expiry; a missing entry fails the run with its cause."""

from __future__ import annotations

from decimal import Decimal

import ldap3
import pytest
from django.db import transaction

from allocations.catalogue.models import IdentityBackend, Site, StorageBackend
from allocations.grants.models import AllocationQuota, AllocationStatus, SyncState
from allocations.grants.sync import mark_needs_sync
from allocations.provisioning.models import (
    HandoverTask,
    SiteReadback,
    StorageProvision,
    StorageStatus,
    SyncAttempt,
    SyncAttemptKind,
    SyncOutcome,
)
from allocations.provisioning.services import read_site_state, reconcile_site, sync_allocation
from allocations.provisioning.slurm.errors import SlurmError
from portal.models import AuditEvent
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.ldap]

ATTRIBUTE = "documentIdentifier"  # any attribute of the schema, allowed by the auxiliary class below


@pytest.fixture
def quota_site(ldap_directory, settings):
    settings.AIF_SLURM_BACKEND = ""
    settings.AIF_STORAGE_DIRECTORY_QUOTA = {"zellik": {"attribute": ATTRIBUTE, "unit": "GB",
                                                       "object_class": "extensibleObject"}}
    Site.objects.filter(code="zellik").update(identity_backend=IdentityBackend.DIRECTORY,
                                              storage_backend=StorageBackend.DIRECTORY_QUOTA)
    return ldap_directory


def _quota(conn, settings, group: str):
    conn.search(settings.AIF_DIRECTORY_GROUPS_DN, f"(cn={group})", attributes=[ATTRIBUTE, "objectClass"])
    assert len(conn.entries) == 1
    values = conn.entries[0].entry_attributes_as_dict.get(ATTRIBUTE, [])
    return values[0] if values else None


def _set_storage(alloc, tb: str) -> None:
    with transaction.atomic():
        AllocationQuota.objects.filter(allocation=alloc, site__code="zellik").update(storage_tb=Decimal(tb))
        mark_needs_sync(alloc)


def test_the_quota_is_written_read_back_changed_corrected_and_released(quota_site, settings):
    conn = quota_site
    alloc = f.allocation(status=AllocationStatus.ACTIVE, sync_state=SyncState.NEEDS_SYNC)
    f.confirmed_member(alloc, email="ines@lab.example", username="ines", subject="sub-ines-0001")
    account = alloc.slurm_account

    assert sync_allocation(allocation_id=alloc.pk) == "synced"
    assert _quota(conn, settings, account) == "2000"  # 2 TB in GB, on the project's posixGroup
    row = StorageProvision.objects.get(allocation=alloc)
    assert (row.status, row.provisioned_tb, row.read_tb, row.read_differs) == (
        StorageStatus.PROVISIONED, Decimal("2"), Decimal("2"), False)
    assert row.group == account and row.owner == "ines" and row.path == f"/projects/{account}"
    assert not HandoverTask.objects.filter(allocation=alloc, kind="storage").exists()
    assert AuditEvent.objects.filter(action="storage.provisioned").count() == 1
    # A second run writes nothing.
    sync_allocation(allocation_id=alloc.pk)
    assert SyncAttempt.objects.filter(kind=SyncAttemptKind.STORAGE).count() == 1

    _set_storage(alloc, "3.5")
    sync_allocation(allocation_id=alloc.pk)
    assert _quota(conn, settings, account) == "3500"
    assert StorageProvision.objects.get(allocation=alloc).provisioned_tb == Decimal("3.5")

    # Someone changes it by hand: the site read finds it, like Slurm drift, and changes nothing.
    dn = f"cn={account},{settings.AIF_DIRECTORY_GROUPS_DN}"
    conn.modify(dn, {ATTRIBUTE: [(ldap3.MODIFY_REPLACE, ["100"])]})
    zellik = Site.objects.get(code="zellik")
    readback = read_site_state(site=zellik)
    [storage_row] = [r for r in readback.rows if r["field"] == "storage_quota"]
    assert storage_row == {"account": account, "field": "storage_quota", "desired": "3.50", "actual": "0.10",
                           "differs": True}
    assert f"storage {account}: 0.10 -> 3.50 TB" in readback.changes
    assert _quota(conn, settings, account) == "100"
    assert StorageProvision.objects.get(allocation=alloc).read_differs

    # A dry run reports it and changes nothing; the full reconcile corrects it.
    dry = reconcile_site(site=zellik, dry_run=True)
    assert dry.outcome == SyncOutcome.DRY_RUN and _quota(conn, settings, account) == "100"
    fixed = reconcile_site(site=zellik)
    assert fixed.outcome == SyncOutcome.DRIFT_FIXED and f"storage {account}: 0.10 -> 3.50 TB" in fixed.drift
    assert _quota(conn, settings, account) == "3500"
    assert AuditEvent.objects.filter(action="storage.drift_fixed").count() == 1
    readback = read_site_state(site=zellik)
    assert not [r for r in readback.rows if r["differs"]] and not readback.changes
    assert not StorageProvision.objects.get(allocation=alloc).read_differs

    # Expiry releases it (the site's default policy): 0 in the directory, read back.
    alloc.status = AllocationStatus.EXPIRED
    alloc.save(update_fields=["status"])
    sync_allocation(allocation_id=alloc.pk)
    assert _quota(conn, settings, account) == "0"
    row = StorageProvision.objects.get(allocation=alloc)
    assert (row.status, row.provisioned_tb) == (StorageStatus.RELEASED, Decimal("0"))
    assert AuditEvent.objects.filter(action="storage.released").count() == 1
    sync_allocation(allocation_id=alloc.pk)  # released once: the next run writes and records nothing
    assert AuditEvent.objects.filter(action="storage.released").count() == 1
    assert SyncAttempt.objects.filter(kind=SyncAttemptKind.STORAGE).count() == 3
    assert SiteReadback.objects.filter(site=zellik).exists()


def test_a_missing_project_entry_fails_the_run_with_its_cause(quota_site, settings):
    """A site whose identities are not in the directory must hold the project's entry itself."""
    Site.objects.filter(code="zellik").update(identity_backend=IdentityBackend.CONFIRMED_USERNAME)
    alloc = f.allocation(status=AllocationStatus.ACTIVE, sync_state=SyncState.NEEDS_SYNC)
    with pytest.raises(SlurmError, match="does not exist: the project's group must exist"):
        sync_allocation(allocation_id=alloc.pk)
    row = StorageProvision.objects.get(allocation=alloc)
    assert row.status == StorageStatus.ERROR and row.provisioned_tb is None and "does not exist" in row.error
    # The site creates it: the retry provisions.
    quota_site.add(f"cn={alloc.slurm_account},{settings.AIF_DIRECTORY_GROUPS_DN}",
                   attributes={"objectClass": ["posixGroup"], "cn": alloc.slurm_account, "gidNumber": 399001})
    assert sync_allocation(allocation_id=alloc.pk) == "synced"
    assert _quota(quota_site, settings, alloc.slurm_account) == "2000"
    assert StorageProvision.objects.get(allocation=alloc).status == StorageStatus.PROVISIONED


def test_a_hostile_value_in_the_directory_is_an_error_not_a_quota(quota_site, settings):
    alloc = f.allocation(status=AllocationStatus.ACTIVE, sync_state=SyncState.NEEDS_SYNC)
    sync_allocation(allocation_id=alloc.pk)
    dn = f"cn={alloc.slurm_account},{settings.AIF_DIRECTORY_GROUPS_DN}"
    quota_site.modify(dn, {ATTRIBUTE: [(ldap3.MODIFY_REPLACE, ["2000; unlimited"])]})
    readback = read_site_state(site=Site.objects.get(code="zellik"))
    assert "not a whole number of GB" in readback.error
    assert StorageProvision.objects.get(allocation=alloc).provisioned_tb == Decimal("2")
