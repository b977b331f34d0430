"""Usage snapshots with 80 %/100 % e-mails, and the operator's provisioning pages."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants import services
from allocations.grants.models import SyncState
from allocations.provisioning.models import HandoverTask, RecordedChange, SyncAttempt, UsageSnapshot
from allocations.provisioning.record import RecordBackend
from allocations.provisioning.services import pull_usage, read_site_state, sync_allocation
from allocations.provisioning.slurm.backends import register_backend
from portal.models import AuditEvent
from tests.factories import OperatorFactory, ReviewerFactory, approved_allocation

pytestmark = pytest.mark.django_db

USED = {}


class MeteredRecordBackend(RecordBackend):
    """The record backend with usage figures set by the test (the boundary sshare would fill)."""

    kind = "metered"

    def usage(self, cluster, accounts):
        return {a: USED[a] for a in accounts if a in USED}


register_backend("metered", MeteredRecordBackend)


@pytest.fixture
def metered(settings):
    settings.AIF_SLURM_BACKEND = "metered"
    USED.clear()
    yield USED
    USED.clear()


def test_usage_snapshots_and_threshold_mails_are_sent_once(metered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        allocation, _manager, _applicant = approved_allocation(gpu=100, cpu=1000)
        services.allocation_start_if_due(allocation=allocation)
    site = Site.objects.get(code="zellik")
    metered[allocation.slurm_account] = {"gpu_minutes": 100 * 60 * 81 // 100, "cpu_minutes": 10}
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert pull_usage(site=site) == 1
    assert UsageSnapshot.objects.get(allocation=allocation).gpu_minutes == 4860
    expected = f"[AI Factory] {allocation.reference} has used 80% of its quota on Zellik"
    assert [m.subject for m in mail.outbox] == [expected]
    assert f"{settings.PORTAL_BASE_URL}/allocations/{allocation.reference}/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        pull_usage(site=site)
    assert len(mail.outbox) == 1, "the 80 % mail is sent once"
    metered[allocation.slurm_account] = {"gpu_minutes": 6000, "cpu_minutes": 10}
    with django_capture_on_commit_callbacks(execute=True):
        pull_usage(site=site)
    assert len(mail.outbox) == 2 and "100%" in mail.outbox[1].subject
    assert AuditEvent.objects.filter(action="usage.threshold_reached").count() == 2
    assert UsageSnapshot.objects.filter(allocation=allocation).count() == 3


def test_handover_site_gets_an_operator_task_and_marking_it_done_syncs(settings, client):
    settings.AIF_SLURM_BACKEND = ""
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    allocation, _manager, _ = approved_allocation(sites=("charleroi",))
    assert sync_allocation(allocation_id=allocation.pk) == "handed_over"
    task = HandoverTask.objects.get(allocation=allocation)
    assert any(c["kind"] == "DesiredAccount" and c["name"] == allocation.slurm_account for c in task.changes)
    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.HANDED_OVER
    operator = OperatorFactory(totp=True)
    client.force_login(operator)
    page = client.get(reverse("provisioning:overview"))
    assert page.status_code == 200 and allocation.reference in page.content.decode()
    response = client.post(reverse("provisioning:handover_done", args=[task.pk]), {"note": "done at LUMI"})
    assert response.status_code == 302
    allocation.refresh_from_db()
    assert allocation.sync_state == SyncState.IN_SYNC
    assert AuditEvent.objects.filter(action="provisioning.handover_done").exists()


def test_an_empty_overview_says_why_there_is_no_attempt(client):
    client.force_login(OperatorFactory(totp=True))
    page = client.get(reverse("provisioning:overview")).content.decode()
    assert "No attempt yet: provisioning runs when an allocation is approved" in page
    assert "No errors." in page


def test_operator_pages_require_the_operator_role(client, settings, django_capture_on_commit_callbacks):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    read_site_state(site=Site.objects.get(code="zellik"))
    client.force_login(ReviewerFactory(totp=True))
    assert client.get(reverse("provisioning:overview")).status_code == 403
    assert client.get(reverse("provisioning:site_detail", args=["zellik"])).status_code == 403
    client.force_login(OperatorFactory(totp=True))
    detail = client.get(reverse("provisioning:site_detail", args=["zellik"]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert allocation.slurm_account in body and "missing" not in body
    with django_capture_on_commit_callbacks(execute=True):  # the re-run is queued once the audit row commits
        response = client.post(reverse("provisioning:rerun_allocation", args=[allocation.reference]))
    assert response.status_code == 302
    assert SyncAttempt.objects.filter(allocation=allocation).count() == 2
    assert AuditEvent.objects.filter(action="provisioning.rerun_requested").count() == 1


def test_site_page_shows_the_planners_comparison_without_representation_mismatches(client, settings):
    """A synced site: the parent account (never blocked) and the unblocked account hold GrpSubmitJobs
    unset, which the planner does not change; the page shows no difference, as the overview does."""
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation()
    sync_allocation(allocation_id=allocation.pk)
    read_site_state(site=Site.objects.get(code="zellik"))
    client.force_login(OperatorFactory(totp=True))
    body = client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert f"org_{allocation.organisation_id}" in body and allocation.slurm_account in body
    assert 'class="differs"' not in body and "{" not in body.split("<table")[1].split("</table>")[0]
    assert "a reconcile would change nothing" in body


def test_site_page_highlights_only_the_settings_that_differ(client, settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, _ = approved_allocation(users=("alice", "bob"))
    sync_allocation(allocation_id=allocation.pk)
    change = RecordedChange.objects.filter(account=allocation.slurm_account).latest("recorded_at", "pk")
    change.change["state"]["users"] = ["alice", "mallory"]  # someone changed the cluster by hand
    change.save()
    read_site_state(site=Site.objects.get(code="zellik"))
    client.force_login(OperatorFactory(totp=True))
    body = client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert body.count('class="differs"') == 1
    assert "alice, bob" in body and "alice, mallory" in body
    assert f"zellik: remove user mallory from {allocation.slurm_account}" in body


def test_refused_reruns_are_messages_and_change_nothing(client, settings):
    settings.AIF_SLURM_BACKEND = ""
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    allocation, _manager, _ = approved_allocation(sites=("charleroi",))
    client.force_login(OperatorFactory(totp=True))
    page = client.post(reverse("provisioning:rerun_allocation", args=[allocation.reference]), follow=True)
    assert "nothing to re-run" in page.content.decode()
    page = client.post(reverse("provisioning:rerun_site", args=["charleroi"]), follow=True)
    assert "nothing to reconcile" in page.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="provisioning.").exists()


def test_threshold_mails_reach_the_team_that_runs_the_jobs(metered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        allocation, _manager, applicant = approved_allocation(gpu=1, cpu=0, users=("alice", "bob"))
        services.allocation_start_if_due(allocation=allocation)
    metered[allocation.slurm_account] = {"gpu_minutes": 50, "cpu_minutes": 100}
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        pull_usage(site=Site.objects.get(code="zellik"))
    [message] = mail.outbox
    assert sorted(message.to) == sorted([applicant.email, "alice@example.org", "bob@example.org"])
    assert "83.3%" in message.body  # 50 of 60 GPU-minutes


def test_usage_is_shown_from_minutes_for_gpus_and_cpus(client, settings):
    settings.AIF_SLURM_BACKEND = ""
    allocation, _manager, applicant = approved_allocation(gpu=1, cpu=10)
    UsageSnapshot.objects.create(allocation=allocation, site=Site.objects.get(code="zellik"), gpu_minutes=50,
                                 cpu_minutes=90)
    client.force_login(applicant)
    body = client.get(reverse("grants:allocation_detail", args=[allocation.reference])).content.decode()
    assert "0.8 (83%)" in body  # 50 of 60 GPU-minutes: not "1 (100%)"
    assert "1.5 (15%)" in body  # 90 of 600 CPU-minutes
