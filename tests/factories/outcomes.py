"""Final reports and outputs: ended allocations owing a report, reports written directly in a status."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import FinalReportSection
from allocations.grants.models import Allocation, AllocationQuota, AllocationStatus, SyncState
from allocations.grants.services import slurm_account_for
from allocations.outcomes.models import FinalReport, FinalReportStatus, Output, OutputKind

from .applications import application
from .catalogue import site


def ended_allocation(*, ended_days_ago: int = 5, member=None, organisation=None, access_mode: str = "fast_lane",
                     status: str = AllocationStatus.EXPIRED, days: int = 90) -> Allocation:
    """An allocation of `access_mode` that ended `ended_days_ago` days ago (negative: ends in the future)."""
    end = timezone.localdate() - datetime.timedelta(days=ended_days_ago)
    start = end - datetime.timedelta(days=days)
    app = application(status=ApplicationStatus.APPROVED, member=member, organisation=organisation, start=start,
                      access_mode=access_mode)
    alloc = Allocation.objects.create(
        application=app, organisation=app.organisation, reference=app.reference, status=status, start_date=start,
        end_date=end, slurm_account=slurm_account_for(app.reference), sync_state=SyncState.IN_SYNC,
        desired_version=1, synced_version=1)
    AllocationQuota.objects.create(allocation=alloc, site=site("zellik"), gpu_hours=1000, cpu_core_hours=500,
                                   storage_tb=Decimal("1"))
    return alloc


def final_report(allocation: Allocation | None = None, *, status: str = FinalReportStatus.DUE,
                 due: datetime.date | None = None, member=None, **fields) -> FinalReport:
    """A final report written directly in `status` (by default of an allocation that ended 5 days ago)."""
    allocation = allocation or ended_allocation(member=member)
    if due is None:
        due = allocation.end_date + datetime.timedelta(days=allocation.application.access_mode.final_report_days or 30)
    if status in (FinalReportStatus.SUBMITTED, FinalReportStatus.ACCEPTED, FinalReportStatus.MORE_ASKED):
        fields.setdefault("submitted_at", timezone.now())
        fields.setdefault("results", "We trained the model.")
        fields.setdefault("lessons", "Checkpoint often.")
        fields.setdefault("compute_use", "Mostly fine-tuning runs.")
        fields.setdefault("ai_act_still_holds", True)
    return FinalReport.objects.create(allocation=allocation, status=status, due_date=due,
                                      sections=list(FinalReportSection.values), **fields)


def output(allocation: Allocation, *, kind: str = OutputKind.MODEL, recorded_by=None, **fields) -> Output:
    fields.setdefault("title", f"{kind} of {allocation.reference}")
    fields.setdefault("link", "https://huggingface.co/demo/model")
    if kind == OutputKind.PUBLICATION:
        fields.setdefault("doi", f"10.5555/{allocation.reference.lower()}")
    return Output.objects.create(allocation=allocation, kind=kind, recorded_by=recorded_by or
                                 allocation.application.created_by, **fields)
