"""Granted storage is provisioned through the site's storage backend, never silently dropped: the hand-over
path end to end (task, mail, pages, confirmation, superseded by a newer quota, release at the end), the
site's validation, and a directory quota that is not configured failing loudly. Runs on SQLite and on
PostgreSQL (DATABASE_URL)."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from allocations.catalogue.models import ProvisioningMode, Site, StorageAtEnd, StorageBackend
from allocations.grants import services as grants
from allocations.grants.models import AllocationQuota, AllocationStatus, ChangeKind, SyncState
from allocations.grants.sync import mark_needs_sync
from allocations.provisioning.models import (
    HandoverKind,
    HandoverTask,
    StorageProvision,
    StorageStatus,
    SyncAttempt,
    SyncAttemptKind,
    SyncOutcome,
)
from allocations.provisioning.services import handover_done, sync_allocation
from allocations.provisioning.slurm.errors import SlurmError
from allocations.provisioning.storage.quota import tb_to_units, units_to_tb
from portal.models import AuditEvent
from tests import factories as f
from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(OperatorFactory(totp=True))
    return client


@pytest.fixture
def granted(settings):
    """An active allocation with 2 TB on Zellik (storage by hand-over, mailed to the site's operators)."""
    settings.AIF_SLURM_BACKEND = ""
    alloc = f.allocation(status=AllocationStatus.ACTIVE, sync_state=SyncState.NEEDS_SYNC)
    Site.objects.filter(code="zellik").update(handover_email="storage@zellik.example",
                                              storage_path_template="/gpfs/projects/{site}/{account}")
    lead = f.confirmed_member(alloc, email="lead@lab.example", username="lead")
    type(alloc.application).objects.filter(pk=alloc.application_id).update(created_by=lead.user)  # the owner
    return alloc


def _set_storage(alloc, tb: str) -> None:
    with transaction.atomic():
        AllocationQuota.objects.filter(allocation=alloc, site__code="zellik").update(storage_tb=Decimal(tb))
        mark_needs_sync(alloc)


def _storage_tasks(alloc):
    return HandoverTask.objects.filter(allocation=alloc, kind=HandoverKind.STORAGE).order_by("pk")


# ------------------------------------------------------------------------------------ the site's settings

def test_a_site_that_offers_storage_needs_a_storage_backend():
    zellik = f.site("zellik")
    zellik.storage_backend = StorageBackend.NONE
    with pytest.raises(ValidationError) as refused:
        zellik.full_clean()
    assert "storage_backend" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Site.objects.filter(pk=zellik.pk).update(storage_backend=StorageBackend.NONE)
    Site.objects.filter(pk=zellik.pk).update(storage_backend=StorageBackend.NONE, offers_storage=False)
    zellik.refresh_from_db()
    zellik.full_clean()  # allowed once the site offers no storage


@pytest.mark.parametrize("template", ["projects/{account}", "/projects/{user}/{account}", "/projects/../{account}",
                                      "/projects/static", "/projects/{account};rm -rf /", "/p/{account}/{0}"])
def test_a_hostile_or_wrong_project_directory_is_refused(template):
    zellik = f.site("zellik")
    zellik.storage_path_template = template
    with pytest.raises(ValidationError) as refused:
        zellik.full_clean()
    assert "storage_path_template" in refused.value.message_dict


def test_a_hand_over_site_cannot_keep_its_quotas_in_the_portal_directory():
    charleroi = f.site("charleroi")
    charleroi.provisioning_mode = ProvisioningMode.HANDOVER
    charleroi.storage_backend = StorageBackend.DIRECTORY_QUOTA
    with pytest.raises(ValidationError) as refused:
        charleroi.full_clean()
    assert "storage_backend" in refused.value.message_dict


def test_units_round_up_and_read_back():
    assert tb_to_units(Decimal("1.5"), "GB") == 1500
    assert tb_to_units(Decimal("1.5"), "GiB") == 1397  # 1396.98...: never less than granted
    assert units_to_tb(1397, "GiB") == Decimal("1.50")
    assert tb_to_units(Decimal("0"), "TiB") == 0


# ------------------------------------------------------------------------------------ hand-over end to end

def test_hand_over_storage_from_request_to_release(granted, operator_client, django_capture_on_commit_callbacks):
    alloc = granted
    operator = OperatorFactory(totp=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_allocation(allocation_id=alloc.pk) == "synced"
    # The compute is active; the storage waits for the site's operators, with the exact request.
    [task] = _storage_tasks(alloc)
    request = {"path": f"/gpfs/projects/zellik/{alloc.slurm_account}", "group": alloc.slurm_account,
               "owner": "lead", "quota_tb": "2.00"}
    assert task.changes == request and task.commands == []
    row = StorageProvision.objects.get(allocation=alloc)
    assert (row.status, row.requested_tb, row.provisioned_tb) == (StorageStatus.HANDED_OVER, Decimal("2"), None)
    [message] = [m for m in mail.outbox if "Storage" in m.subject]
    assert message.to == ["storage@zellik.example"]
    assert message.subject == f"[AI Factory] Storage to set up: {alloc.reference} on Zellik (2.00 TB)"
    assert request["path"] in message.body and "Owner: lead" in message.body and f"#handover-{task.pk}" in message.body
    assert AuditEvent.objects.filter(action="storage.handed_over").count() == 1

    # The applicant's page never calls it provisioned; the operator's pages show the request and the task.
    member_client = type(operator_client)()
    member_client.force_login(f.MembershipFactory(organisation=alloc.organisation).user)
    page = member_client.get(alloc.get_absolute_url()).content.decode()
    assert "Pending: waiting for the site&#x27;s operators" in page and "Provisioned" not in page
    overview = operator_client.get(reverse("provisioning:overview")).content.decode()
    assert f"handover-{task.pk}" in overview and request["path"] in overview and "Storage request" in overview
    site_page = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert f"#handover-{task.pk}" in site_page and "open hand-over task since" in site_page

    # A retry of the same request opens nothing and mails nothing.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _set_storage(alloc, "2")
        sync_allocation(allocation_id=alloc.pk)
    assert _storage_tasks(alloc).count() == 1 and not [m for m in mail.outbox if "Storage" in m.subject]

    # A newer quota supersedes the open task; closing the old one is refused.
    with django_capture_on_commit_callbacks(execute=True):
        _set_storage(alloc, "5")
        sync_allocation(allocation_id=alloc.pk)
    old, new = _storage_tasks(alloc)
    old.refresh_from_db()
    assert old.superseded_by_id == new.pk and new.changes["quota_tb"] == "5.00" and new.is_open
    [message] = [m for m in mail.outbox if "Storage" in m.subject]
    assert "replaces an earlier one" in message.body
    with pytest.raises(ValidationError):
        handover_done(actor=operator, task=old)
    assert StorageProvision.objects.get(allocation=alloc).provisioned_tb is None

    # Marked done through the page: the 5 TB are provisioned; the Slurm side is untouched.
    response = operator_client.post(reverse("provisioning:handover_done", args=[new.pk]), {"note": "mmsetquota done"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.provisioned_tb) == (StorageStatus.PROVISIONED, Decimal("5"))
    alloc.refresh_from_db()
    assert alloc.sync_state == SyncState.IN_SYNC and alloc.status == AllocationStatus.ACTIVE
    assert AuditEvent.objects.filter(action="storage.provisioned", changes__quota_tb="5.00").count() == 1
    page = member_client.get(alloc.get_absolute_url()).content.decode()
    assert "Provisioned" in page and "5.00 TB since" in page
    with django_capture_on_commit_callbacks(execute=True):
        sync_allocation(allocation_id=alloc.pk)
    assert _storage_tasks(alloc).filter(done_at=None, superseded_at=None).count() == 0  # confirmed: nothing new

    # Revocation releases it (the site's policy): a release task, confirmed, and the storage is released.
    with django_capture_on_commit_callbacks(execute=True):
        grants.allocation_revoke(actor=f.manager(), allocation=alloc, reason="breach of the terms of use")
        sync_allocation(allocation_id=alloc.pk)
    release = _storage_tasks(alloc).last()
    assert release.changes["quota_tb"] == "0.00" and release.is_open
    assert [m.subject for m in mail.outbox if "release" in m.subject] == [
        f"[AI Factory] Storage to release: {alloc.reference} on Zellik"]
    handover_done(actor=operator, task=release)
    row.refresh_from_db()
    assert (row.status, row.provisioned_tb) == (StorageStatus.RELEASED, Decimal("0"))
    assert AuditEvent.objects.filter(action="storage.released").count() == 1


def test_a_site_that_keeps_storage_at_the_end_opens_no_release(granted, django_capture_on_commit_callbacks):
    Site.objects.filter(code="zellik").update(storage_at_end=StorageAtEnd.KEEP)
    alloc = granted
    sync_allocation(allocation_id=alloc.pk)
    handover_done(actor=OperatorFactory(totp=True), task=_storage_tasks(alloc).get())
    with django_capture_on_commit_callbacks(execute=True):
        grants.allocation_revoke(actor=f.manager(), allocation=alloc, reason="project stopped")
        sync_allocation(allocation_id=alloc.pk)
    assert _storage_tasks(alloc).count() == 1
    assert StorageProvision.objects.get(allocation=alloc).provisioned_tb == Decimal("2")


def test_a_slurm_hand_over_and_a_storage_hand_over_are_open_side_by_side(granted):
    """The Slurm task and the storage task of one site are separate: closing the storage task does not
    make the allocation active, closing the Slurm task does not provision the storage."""
    Site.objects.filter(code="zellik").update(provisioning_mode=ProvisioningMode.HANDOVER)
    alloc = granted
    assert sync_allocation(allocation_id=alloc.pk) == "handed_over"
    slurm = HandoverTask.objects.get(allocation=alloc, kind=HandoverKind.SLURM)
    storage = _storage_tasks(alloc).get()
    operator = OperatorFactory(totp=True)
    handover_done(actor=operator, task=storage)
    alloc.refresh_from_db()
    assert alloc.sync_state == SyncState.HANDED_OVER
    handover_done(actor=operator, task=slurm)
    alloc.refresh_from_db()
    assert alloc.sync_state == SyncState.IN_SYNC
    assert StorageProvision.objects.get(allocation=alloc).status == StorageStatus.PROVISIONED


def test_the_storage_of_a_site_without_storage_is_never_requested(granted):
    Site.objects.filter(code="zellik").update(storage_backend=StorageBackend.NONE, offers_storage=False)
    sync_allocation(allocation_id=granted.pk)
    assert not StorageProvision.objects.exists() and not _storage_tasks(granted).exists()


def test_only_operators_mark_storage_done(granted, client):
    sync_allocation(allocation_id=granted.pk)
    task = _storage_tasks(granted).get()
    client.force_login(f.ReviewerFactory(totp=True))
    response = client.post(reverse("provisioning:handover_done", args=[task.pk]))
    assert response.status_code in (302, 403)
    task.refresh_from_db()
    assert task.done_at is None and StorageProvision.objects.get(allocation=granted).provisioned_tb is None


def test_the_site_page_lists_storage_in_a_fixed_number_of_queries(operator_client, settings,
                                                                  django_assert_max_num_queries):
    settings.AIF_SLURM_BACKEND = ""
    for _ in range(3):
        sync_allocation(allocation_id=f.allocation(sync_state=SyncState.NEEDS_SYNC).pk)
    with django_assert_max_num_queries(40) as few:
        operator_client.get(reverse("provisioning:site_detail", args=["zellik"]))
    for _ in range(4):
        sync_allocation(allocation_id=f.allocation(sync_state=SyncState.NEEDS_SYNC).pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert body.count("open hand-over task since") == 7


# ------------------------------------------------------------------------------------ directory quota, misconfigured

def test_a_directory_quota_that_is_not_configured_fails_loudly_and_retries(granted, settings):
    Site.objects.filter(code="zellik").update(storage_backend=StorageBackend.DIRECTORY_QUOTA)
    settings.AIF_STORAGE_DIRECTORY_QUOTA = {}
    with pytest.raises(SlurmError, match="AIF_STORAGE_DIRECTORY_QUOTA has no entry for the site zellik"):
        sync_allocation(allocation_id=granted.pk)
    row = StorageProvision.objects.get(allocation=granted)
    assert row.status == StorageStatus.ERROR and row.provisioned_tb is None
    attempt = SyncAttempt.objects.get(allocation=granted, kind=SyncAttemptKind.STORAGE)
    assert attempt.outcome == SyncOutcome.ERROR and "AIF_STORAGE_DIRECTORY_QUOTA" in attempt.error
    granted.refresh_from_db()
    assert granted.sync_state == SyncState.ERROR  # the sweeper queues it again
    settings.AIF_STORAGE_DIRECTORY_QUOTA = {"zellik": {"attribute": "bad attribute!", "unit": "PB"}}
    with pytest.raises(SlurmError, match="is not an LDAP attribute name.*unit 'PB'"):
        sync_allocation(allocation_id=granted.pk)


def test_a_directory_quota_site_without_its_settings_is_warned(settings):
    from allocations.checks import check_site_backend_options

    site = Site.objects.create(code="dq", name="Dq", slurm_cluster="dq", storage_backend="directory_quota")
    settings.AIF_STORAGE_DIRECTORY_QUOTA = {}
    messages = [m for m in check_site_backend_options(databases=["default"]) if m.obj == site]
    assert [m.id for m in messages] == ["allocations.W002"] and "no entry for the site dq" in messages[0].msg
    settings.AIF_DIRECTORY_URL = "ldaps://directory.example.org"
    settings.AIF_DIRECTORY_BIND_DN = "cn=portal,dc=example,dc=org"
    settings.AIF_DIRECTORY_BIND_PASSWORD = "secret"
    settings.AIF_DIRECTORY_USERS_DN = "ou=people,dc=example,dc=org"
    settings.AIF_DIRECTORY_GROUPS_DN = "ou=groups,dc=example,dc=org"
    settings.AIF_STORAGE_DIRECTORY_QUOTA = {"dq": {"attribute": "aifStorageQuota", "unit": "GiB"}}
    assert [m for m in check_site_backend_options(databases=["default"]) if m.obj == site] == []


def test_erasure_renames_the_owner_in_what_the_storage_kept(granted):
    """The owner's login in the storage row and in its hand-over task becomes the pseudonym."""
    from allocations.provisioning.services import provisioning_records_rename_user

    sync_allocation(allocation_id=granted.pk)
    assert provisioning_records_rename_user(allocation=granted, old="lead", new="erased_1a2b") >= 2
    assert StorageProvision.objects.get(allocation=granted).owner == "erased_1a2b"
    task = _storage_tasks(granted).get()
    assert task.changes["owner"] == "erased_1a2b" and {"account": granted.slurm_account, "field": "owner",
                                                        "value": "erased_1a2b"} in task.fields


def test_a_storage_top_up_reaches_the_site_as_a_new_request(granted, django_capture_on_commit_callbacks):
    """The change request for storage alone: once approved, the next provisioning run asks the site for the
    larger quota (a hand-over task superseding the open one)."""
    alloc = granted
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_allocation(allocation_id=alloc.pk) == "synced"
    [first] = _storage_tasks(alloc)
    assert first.changes["quota_tb"] == "2.00"
    owner = alloc.application.created_by
    zellik = Site.objects.get(code="zellik")
    cr = grants.change_request_submit(actor=owner, allocation=alloc, kind=ChangeKind.TOP_UP,
                                      payload={"quotas": {str(zellik.pk): {"storage_tb": "1.5"}}},
                                      justification="Checkpoints of the larger model")
    with django_capture_on_commit_callbacks(execute=True):
        grants.change_request_decide(actor=f.manager(), change_request=cr, approve=True)
        sync_allocation(allocation_id=alloc.pk)
    first, second = _storage_tasks(alloc)
    first.refresh_from_db()
    assert second.changes["quota_tb"] == "3.50" and first.superseded_by_id == second.pk
    assert StorageProvision.objects.get(allocation=alloc).requested_tb == Decimal("3.5")
