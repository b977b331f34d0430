"""Acceptance gates the users of each site's association, in the one place the desired state is chosen:
a sync of one allocation, a full reconcile, its dry run and the operator's pages agree (record backend)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from allocations.applications.models import TeamMember
from allocations.provisioning.models import RecordedChange
from allocations.provisioning.selectors import site_drift
from allocations.provisioning.services import read_site_state, reconcile_site, site_desired, site_team, sync_allocation
from allocations.terms import services
from allocations.terms.models import TermsVersion
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""  # every site keeps its default backend: record


def users_on(allocation, site_code: str) -> list[str]:
    """The users of the account's association on the site, as the record backend last wrote them."""
    row = (RecordedChange.objects.filter(account=allocation.slurm_account, change__has_key="state",
                                         site__code=site_code).order_by("-recorded_at", "-pk").first())
    return row.change["state"]["users"]


def desired_users(site_code: str, allocation) -> list[str]:
    account = next(d for d in site_desired(f.site(site_code)) if d.name == allocation.slurm_account)
    return sorted(account.users)


@pytest.fixture
def granted(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        allocation, _manager, _applicant = f.approved_allocation(users=("alice", "bob"), sites=("zellik", "charleroi"))
    accounts = {m.cluster_username: f.member_account(m)
                for m in TeamMember.objects.filter(application_id=allocation.application_id)}
    return allocation, accounts


def test_without_published_terms_nobody_is_held_back(granted):
    allocation, _accounts = granted
    assert users_on(allocation, "zellik") == ["alice", "bob"]
    assert desired_users("charleroi", allocation) == ["alice", "bob"]


def test_a_member_who_has_not_accepted_the_platform_terms_is_not_in_any_association(
        granted, django_capture_on_commit_callbacks):
    allocation, accounts = granted
    version = f.terms_version()
    f.accept_terms(accounts["alice"], version)
    sync_allocation(allocation_id=allocation.pk)
    assert users_on(allocation, "zellik") == ["alice"]
    assert users_on(allocation, "charleroi") == ["alice"]
    assert desired_users("zellik", allocation) == ["alice"]

    with django_capture_on_commit_callbacks(execute=True):
        services.terms_accept(actor=accounts["bob"], version=version)
    assert users_on(allocation, "zellik") == ["alice", "bob"], "accepting re-syncs through the task on commit"
    assert users_on(allocation, "charleroi") == ["alice", "bob"]


def test_a_site_terms_version_holds_a_member_out_of_that_site_only(granted, django_capture_on_commit_callbacks):
    allocation, accounts = granted
    charleroi_terms = f.terms_version(site=f.site("charleroi"))
    f.accept_terms(accounts["alice"], charleroi_terms)
    sync_allocation(allocation_id=allocation.pk)
    assert users_on(allocation, "zellik") == ["alice", "bob"]
    assert users_on(allocation, "charleroi") == ["alice"]
    with django_capture_on_commit_callbacks(execute=True):
        services.terms_accept(actor=accounts["bob"], version=charleroi_terms)
    assert users_on(allocation, "charleroi") == ["alice", "bob"]


def test_a_new_version_keeps_earlier_acceptances_for_the_grace_period_then_holds_them_out(
        granted, django_capture_on_commit_callbacks):
    allocation, accounts = granted
    today = timezone.localdate()
    v1 = f.terms_version(effective=today - datetime.timedelta(days=100))
    f.accept_terms(accounts["alice"], v1, days_ago=99)
    f.accept_terms(accounts["bob"], v1, days_ago=99)
    TermsVersion.objects.filter(pk=v1.pk).update(resynced_on=v1.effective_date)
    v2 = f.terms_version(effective=today - datetime.timedelta(days=3), grace_days=30)
    sync_allocation(allocation_id=allocation.pk)
    assert users_on(allocation, "zellik") == ["alice", "bob"], "in the grace period"

    # The grace period ended: the beat task marks the allocation, the provisioning takes bob out.
    TermsVersion.objects.filter(pk=v2.pk).update(effective_date=today - datetime.timedelta(days=31),
                                                 resynced_on=today - datetime.timedelta(days=31))
    f.accept_terms(accounts["alice"], v2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.terms_resync_due() == 1
    assert users_on(allocation, "zellik") == ["alice"]
    assert users_on(allocation, "charleroi") == ["alice"]

    with django_capture_on_commit_callbacks(execute=True):
        services.terms_accept(actor=accounts["bob"], version=TermsVersion.objects.get(pk=v2.pk))
    assert users_on(allocation, "zellik") == ["alice", "bob"]


def test_a_version_not_yet_in_force_holds_nobody_back(granted):
    allocation, _accounts = granted
    f.terms_version(effective=timezone.localdate() + datetime.timedelta(days=5))
    assert desired_users("zellik", allocation) == ["alice", "bob"]


def test_a_confirmed_member_without_an_account_is_held_out_only_while_terms_are_in_force():
    allocation, _manager, _applicant = f.approved_allocation(users=("nora",))
    team = site_team(f.site("zellik"))
    assert team[allocation.application_id] == ["nora"]
    f.terms_version()
    assert site_team(f.site("zellik")).get(allocation.application_id, []) == []


def test_the_full_reconcile_its_dry_run_and_the_operator_page_agree(granted):
    allocation, accounts = granted
    f.accept_terms(accounts["alice"], f.terms_version())
    zellik = f.site("zellik")
    dry = reconcile_site(site=zellik, dry_run=True)
    assert any("bob" in line for line in dry.drift), dry.drift
    read_site_state(site=zellik)  # the operator's page shows the last stored read of the cluster
    drift = site_drift(zellik)
    assert any("bob" in str(change) for change in drift.changes)
    reconcile_site(site=zellik)
    assert users_on(allocation, "zellik") == ["alice"]
    assert reconcile_site(site=zellik, dry_run=True).drift == []
