"""Granted allocations: written directly (`allocation`), or approved through the real services
(`approved_allocation`, no shortcuts past the rules)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from allocations.applications.models import Application, ApplicationStatus, TeamMember
from allocations.applications.services import next_application_reference
from allocations.catalogue.models import AccessMode, Site
from allocations.grants.models import (
    Allocation,
    AllocationQuota,
    AllocationStatus,
    ChangeKind,
    ChangeRequest,
    SyncState,
)
from allocations.grants.services import slurm_account_for
from allocations.review.services import application_approve
from compliance.models import EthicsReview, EthicsStatus, RiskAssessment

from .accounts import AllocationManagerFactory, MembershipFactory, OrganisationFactory, UserFactory
from .applications import application
from .catalogue import ensure_capacity, ensure_reference_data, site
from .provisioning import usage_and_attempts


def allocation(*, status: str = AllocationStatus.ACTIVE, start: datetime.date | None = None,
               end: datetime.date | None = None, gpu_hours: int = 1000, member=None, organisation=None,
               sync_state: str = SyncState.IN_SYNC) -> Allocation:
    """A granted allocation written directly in `status` (approved application behind it)."""
    today = timezone.localdate()
    start = start or today - datetime.timedelta(days=10)
    ensure_capacity(min(start, today))  # a change request re-plans its reservation
    app = application(status=ApplicationStatus.APPROVED, member=member, organisation=organisation,
                      start=start, requests={"zellik": gpu_hours})
    alloc = Allocation.objects.create(
        application=app, organisation=app.organisation, reference=app.reference, status=status,
        start_date=start, end_date=end or start + datetime.timedelta(days=90),
        slurm_account=slurm_account_for(app.reference), sync_state=sync_state,
        desired_version=3, synced_version=3 if sync_state == SyncState.IN_SYNC else 2)
    AllocationQuota.objects.create(allocation=alloc, site=site("zellik"), gpu_hours=gpu_hours,
                                   cpu_core_hours=500, storage_tb=Decimal("2"))
    return alloc


def bare_allocation(organisation, creator, *, status: str = AllocationStatus.ACTIVE,
                    usage: bool = True) -> Allocation:
    """An allocation written directly behind a bare approved application (no assessment, ethics review or
    team), starting today; `usage` adds usage snapshots and sync attempts."""
    today = timezone.localdate()
    app = Application.objects.create(
        reference=next_application_reference(), organisation=organisation, created_by=creator,
        status=ApplicationStatus.APPROVED, title="Granted", start_date=today, duration_months=3)
    alloc = Allocation.objects.create(
        application=app, organisation=organisation, reference=app.reference, status=status, start_date=today,
        end_date=today + datetime.timedelta(days=90), slurm_account=slurm_account_for(app.reference),
        sync_state=SyncState.IN_SYNC)
    AllocationQuota.objects.create(allocation=alloc, site=site("zellik"), gpu_hours=1000, cpu_core_hours=500)
    if usage:
        usage_and_attempts(alloc)
    return alloc


def approved_allocation(*, gpu=100, cpu=1000, users=("alice",), start=None, sites=("zellik",), manager=None):
    """An application awaiting decision with a complete assessment and cleared ethics, approved."""
    start = start or timezone.localdate()
    ensure_reference_data()
    ensure_capacity(start)
    org = OrganisationFactory()
    applicant = UserFactory()
    MembershipFactory(user=applicant, organisation=org)
    n = Application.objects.count() + 1
    app = Application.objects.create(
        reference=f"AIF-2026-{9000 + n:04d}", organisation=org, created_by=applicant, title=f"Project {n}",
        status=ApplicationStatus.AWAITING_DECISION, access_mode=AccessMode.objects.get(code="fast_lane"),
        start_date=start, duration_months=2)
    for code in sites:
        app.resources.create(site=Site.objects.get(code=code), gpu_hours=gpu, cpu_core_hours=cpu)
    for i, username in enumerate(users):
        TeamMember.objects.create(application=app, full_name=f"Member {i}", email=f"{username}@example.org",
                                  cluster_username=username, confirmed_at=timezone.now())
    RiskAssessment.objects.create(application=app, ruleset_version="2026-omnibus", ruleset_sha256="0" * 64,
                                  result={"classification": "minimal", "flags": {}}, classification="minimal",
                                  complete=True)
    EthicsReview.objects.create(application=app, status=EthicsStatus.AUTO_CLEARED)
    manager = manager or AllocationManagerFactory()
    quotas = {Site.objects.get(code=code).pk: {"gpu_hours": gpu, "cpu_core_hours": cpu} for code in sites}
    allocation = application_approve(actor=manager, application=app, quotas=quotas)
    return allocation, manager, applicant


def change_request(alloc: Allocation, *, kind: str = ChangeKind.EXTENSION, days_ago: int = 0) -> ChangeRequest:
    """An open change request of the allocation's first member, asked `days_ago` days ago."""
    requester = alloc.organisation.memberships.first().user
    cr = ChangeRequest.objects.create(allocation=alloc, kind=kind, payload={"end_date": "2100-01-01"},
                                      justification="More time for the experiments.", requested_by=requester)
    if days_ago:
        ChangeRequest.objects.filter(pk=cr.pk).update(
            requested_at=timezone.now() - datetime.timedelta(days=days_ago))
        cr.refresh_from_db()
    return cr
