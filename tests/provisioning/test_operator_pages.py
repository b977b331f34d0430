"""The operator's provisioning pages: the stored read of a site, hand-over tasks that cannot get stuck,
dry runs, and the portal's actions on jobs."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants import services as grants
from allocations.grants.models import Allocation, AllocationStatus, SyncState
from allocations.provisioning import selectors
from allocations.provisioning.models import (
    HandoverTask,
    JobAction,
    ReadbackStatus,
    RecordedChange,
    SiteReadback,
    SyncAttempt,
    SyncOutcome,
)
from allocations.provisioning.record import RecordBackend
from allocations.provisioning.services import (
    handover_done,
    read_site_state,
    reconcile_site,
    sweep_unsynced,
    sync_allocation,
)
from allocations.provisioning.slurm.backends import register_backend
from allocations.provisioning.slurm.errors import SlurmCommandError
from portal.models import AuditEvent
from tests.factories import OperatorFactory, ReviewerFactory, approved_allocation

pytestmark = pytest.mark.django_db


class HungBackend(RecordBackend):
    """slurmdbd does not answer: every read fails with the cause sacctmgr gives."""

    kind = "hung"

    def read(self, cluster, names=None):
        raise SlurmCommandError("timeout after 45s: sacctmgr -n -P show assoc (slurmdbd: Connection timed out)")


register_backend("hung", HungBackend)


@pytest.fixture
def operator_client(client):
    client.force_login(OperatorFactory(totp=True))
    return client


@pytest.fixture
def handover_site(settings):
    settings.AIF_SLURM_BACKEND = ""
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER,
                                                  handover_email="hpc-ops@charleroi.example")
    return Site.objects.get(code="charleroi")


# ------------------------------------------------------------------------------------ the site page

def test_the_site_page_never_calls_slurm(operator_client, settings, monkeypatch):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    read_site_state(site=Site.objects.get(code="zellik"))

    def no_slurm(site):
        raise AssertionError("the page called Slurm")

    monkeypatch.setattr("allocations.provisioning.services.backend_for", no_slurm)
    response = operator_client.get(reverse("provisioning:site_detail", args=["zellik"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert allocation.slurm_account in body and "Read on " in body and "Refresh now" in body


def test_refresh_queues_a_read_that_the_page_then_shows(operator_client, settings, django_capture_on_commit_callbacks):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    page = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert "has not read this cluster yet" in page and "Settings compared by the planner" not in page

    with django_capture_on_commit_callbacks(execute=False) as queued:  # the read waits for a worker
        operator_client.post(reverse("provisioning:refresh_site", args=["zellik"]))
    assert SiteReadback.objects.get(site__code="zellik").status == ReadbackStatus.QUEUED
    page = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert "waits for a worker" in page
    event = AuditEvent.objects.get(action="provisioning.readback_requested")
    assert event.changes == {"cluster": "zellik"}

    for callback in queued:  # the worker runs the task
        callback()
    readback = SiteReadback.objects.get(site__code="zellik")
    assert readback.status == ReadbackStatus.DONE and readback.read_at is not None
    page = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert "waits for a worker" not in page and allocation.slurm_account in page
    assert "In sync: a reconcile would change nothing." in page


def test_a_hung_slurmdbd_keeps_the_previous_read_and_shows_the_cause(operator_client, settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    zellik = Site.objects.get(code="zellik")
    first = read_site_state(site=zellik)
    settings.AIF_SLURM_BACKEND = "hung"
    failed = read_site_state(site=zellik)
    assert failed.status == ReadbackStatus.ERROR and failed.read_at == first.read_at and failed.rows == first.rows
    body = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert "slurmdbd: Connection timed out" in body and allocation.slurm_account in body


def test_only_operators_refresh_and_hand_over_sites_are_not_read(client, handover_site):
    client.force_login(ReviewerFactory(totp=True))
    assert client.post(reverse("provisioning:refresh_site", args=["zellik"])).status_code == 403
    client.force_login(OperatorFactory(totp=True))
    page = client.post(reverse("provisioning:refresh_site", args=["charleroi"]), follow=True).content.decode()
    assert "the portal does not read it" in page
    assert not SiteReadback.objects.exists() and not AuditEvent.objects.filter(
        action="provisioning.readback_requested").exists()


def test_a_dry_run_is_not_an_error(settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    RecordedChange.objects.filter(account=allocation.slurm_account).delete()  # the account vanished
    attempt = reconcile_site(site=Site.objects.get(code="zellik"), dry_run=True)
    assert attempt.outcome == SyncOutcome.DRY_RUN and attempt.error == "" and attempt.drift
    assert str(attempt.get_outcome_display()) == "Dry run: differences found, nothing changed"
    assert not RecordedChange.objects.filter(account=allocation.slurm_account).exists()


# ------------------------------------------------------------------------------------ hand-overs

def test_a_stuck_hand_over_cannot_be_produced(handover_site):
    operator = OperatorFactory(totp=True)
    allocation, _manager, _ = approved_allocation(sites=("charleroi",))
    sync_allocation(allocation_id=allocation.pk)
    task1 = HandoverTask.objects.get(allocation=allocation)
    grants.allocation_start_if_due(allocation=allocation)  # desired v2: the account opens
    sync_allocation(allocation_id=allocation.pk)
    task2 = HandoverTask.objects.exclude(pk=task1.pk).get(allocation=allocation)
    task1.refresh_from_db()
    assert task1.superseded_by == task2 and task1.superseded_at is not None
    assert list(selectors.open_handovers()) == [task2]

    with pytest.raises(ValidationError, match="replaced by a newer one"):
        handover_done(actor=operator, task=task1)
    allocation.refresh_from_db()
    # Not stuck: the task of the current desired version is open, and task1 stays not done.
    assert allocation.status == AllocationStatus.PROVISIONING
    assert HandoverTask.objects.get(pk=task1.pk).done_at is None
    assert [t.desired_version for t in selectors.open_handovers()] == [allocation.desired_version]

    handover_done(actor=operator, task=task2)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE and allocation.sync_state == SyncState.IN_SYNC
    assert not selectors.open_handovers().exists()


def test_an_older_task_done_before_the_newer_one_exists_leads_to_the_newer_one(handover_site,
                                                                             django_capture_on_commit_callbacks):
    operator = OperatorFactory(totp=True)
    allocation, _manager, _ = approved_allocation(sites=("charleroi",))
    sync_allocation(allocation_id=allocation.pk)
    task1 = HandoverTask.objects.get(allocation=allocation)
    grants.allocation_start_if_due(allocation=allocation)  # v2 decided, not pushed yet
    handover_done(actor=operator, task=task1)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.PROVISIONING and allocation.sync_state == SyncState.NEEDS_SYNC
    Allocation.objects.filter(pk=allocation.pk).update(sync_state=SyncState.NEEDS_SYNC)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_unsynced(older_than_seconds=0) == 1  # the sweeper pushes v2: its task opens
    task2 = selectors.open_handovers().get()
    assert task2.desired_version == allocation.desired_version
    # From what task1 put there, only the block is lifted.
    assert task2.commands == [f"sacctmgr -i modify account where name={allocation.slurm_account} cluster=charleroi "
                              "set GrpSubmitJobs=-1 GrpJobs=-1"]
    handover_done(actor=operator, task=task2)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE


def test_one_open_task_per_allocation_and_site_is_a_database_rule(handover_site):
    allocation, _manager, _ = approved_allocation(sites=("charleroi",))
    sync_allocation(allocation_id=allocation.pk)
    sync_allocation(allocation_id=allocation.pk)  # a retry creates nothing
    task = HandoverTask.objects.get(allocation=allocation)
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoverTask.objects.create(site=task.site, allocation=allocation, changes=[],
                                    desired_version=task.desired_version + 1)


def test_the_remote_operators_get_the_commands_and_the_settings_to_confirm(handover_site, client,
                                                                           django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        allocation, _manager, _ = approved_allocation(sites=("charleroi",), users=("alice", "bob"))
        sync_allocation(allocation_id=allocation.pk)
    task = HandoverTask.objects.get(allocation=allocation)
    account, parent = allocation.slurm_account, f"org_{allocation.organisation_id}"
    assert task.commands == [
        f"sacctmgr -i add account {parent} cluster=charleroi parent=root "
        f"'Description=organisation {allocation.organisation_id}' Organization={parent}",
        f"sacctmgr -i add account {account} cluster=charleroi parent={parent} "
        f"'Description=allocation {account}' Organization={parent} GrpTRESMins=cpu=60000,gres/gpu=6000 "
        "GrpSubmitJobs=0 GrpJobs=0 QOS=aif_fast_lane DefaultQOS=aif_fast_lane",
        f"sacctmgr -i add user alice account={account} cluster=charleroi",
        f"sacctmgr -i add user bob account={account} cluster=charleroi",
    ]
    [message] = [m for m in mail.outbox if "Hand-over" in m.subject]
    assert message.to == ["hpc-ops@charleroi.example"]
    assert message.subject == f"[AI Factory] Hand-over: {allocation.reference} on Charleroi (version " \
                              f"{task.desired_version})"
    assert all(f"    {line}" in message.body for line in task.commands)
    assert f"{account}, Quota (GrpTRESMins, minutes): cpu=60000, gres/gpu=6000" in message.body
    assert f"{account}, Users: alice, bob" in message.body
    assert f"#handover-{task.pk}" in message.body

    client.force_login(OperatorFactory(totp=True))
    page = client.get(reverse("provisioning:overview")).content.decode()
    assert "GrpTRESMins=cpu=60000,gres/gpu=6000" in page and "Settings to confirm afterwards" in page
    assert "&#x27;Description=allocation" in page  # the shell quoting, escaped for HTML


def test_without_a_site_address_the_portals_operators_get_the_hand_over(settings, django_capture_on_commit_callbacks):
    settings.AIF_SLURM_BACKEND = ""
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    operator = OperatorFactory(totp=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        allocation, _manager, _ = approved_allocation(sites=("charleroi",))
        sync_allocation(allocation_id=allocation.pk)
    assert [m.to for m in mail.outbox if "Hand-over" in m.subject] == [[operator.email]]


# ------------------------------------------------------------------------------------ job actions

def _job_actions(allocation, n):
    site = Site.objects.get(code="zellik")
    for i in range(n):
        JobAction.objects.create(site=site, allocation=allocation, action="hold", job_ids=[str(100 + i)],
                                 allocation_status=AllocationStatus.SUSPENDED)


def test_job_actions_are_shown_with_their_job_ids_in_constant_queries(operator_client, settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    site = Site.objects.get(code="zellik")
    JobAction.objects.create(site=site, allocation=allocation, action="cancel", job_ids=["41", "42"],
                             running_job_ids=["42"], allocation_status=AllocationStatus.REVOKED)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            body = operator_client.get(url).content.decode()
        return len(ctx.captured_queries), body

    overview, site_page = reverse("provisioning:overview"), reverse("provisioning:site_detail", args=["zellik"])
    few, body = queries(overview)
    assert "41, 42" in body and "Jobs cancelled" in body and "Revoked" in body
    few_site, body = queries(site_page)
    assert "41, 42 (running: 42)" in body
    _job_actions(allocation, 8)
    assert queries(overview)[0] == few and queries(site_page)[0] == few_site


def test_retries_of_one_provisioning_are_one_error_row_with_the_full_cause(operator_client, settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    other, _manager, _ = approved_allocation()
    site = Site.objects.get(code="zellik")
    cause = "sacctmgr: error: slurmdbd: Connection refused " + "x" * 300 + " (the end of the cause)"
    for _ in range(12):
        SyncAttempt.objects.create(site=site, allocation=allocation, outcome=SyncOutcome.ERROR, error=cause)
    SyncAttempt.objects.create(site=site, allocation=other, outcome=SyncOutcome.ERROR, error="timeout")
    groups = selectors.recent_errors()
    assert [(g.latest.allocation_id, g.tries) for g in groups] == [(other.pk, 1), (allocation.pk, 12)]
    body = operator_client.get(reverse("provisioning:overview")).content.decode()
    assert "12 tries since" in body and "(the end of the cause)" in body
    errors_table = body.split("Recent errors")[1].split("Last attempts")[0]
    assert errors_table.count(f"<td>{allocation.reference}</td>") == 1  # one row, not twelve


def test_the_overview_says_what_the_site_page_says(operator_client, settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    zellik = Site.objects.get(code="zellik")
    read_site_state(site=zellik)
    sites_table = operator_client.get(reverse("provisioning:overview")).content.decode().split("</table>")[0]
    assert ">in sync</a>" in sites_table
    RecordedChange.objects.filter(account=allocation.slurm_account).delete()  # the account vanished
    read_site_state(site=zellik)
    with CaptureQueriesContext(connection) as ctx:
        body = operator_client.get(reverse("provisioning:overview")).content.decode()
    changes = len(SiteReadback.objects.get(site=zellik).changes)
    assert f">{changes} differences</a>" in body.split("</table>")[0]
    site_page = operator_client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert f"A reconcile would make {changes} changes" in site_page
    assert not any("allocations_sitereadback" in q["sql"] and "WHERE" in q["sql"].split("FROM")[1][:80]
                   for q in ctx.captured_queries)  # read with the sites, not once per site
