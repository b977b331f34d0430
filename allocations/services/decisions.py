"""The access committee's decision: approve with per-site quotas, reject, or ask for a revision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from compliance.services import approval_blockers
from portal.audit import AuditAction, audit_record

from .. import permissions
from ..models import (
    Allocation,
    AllocationQuota,
    Application,
    ApplicationStatus,
    Decision,
    DecisionOutcome,
    SiteCapacity,
)
from ..models.reference import quarter_start
from .applications import application_end_date
from .sync import mark_needs_sync
from .transitions import application_transition


def slurm_account_for(reference: str) -> str:
    """AIF-2026-0042 -> aif_2026_0042 (lowercase letters, digits, underscores: safe for sacctmgr)."""
    return reference.lower().replace("-", "_")


def _require_manager(actor) -> None:
    if not permissions.can_manage(actor):
        raise PermissionDenied(_("Only allocation managers decide."))


def _clean_quotas(app: Application, quotas: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    requested = {r.site_id: r for r in app.resources.all()}
    cleaned: dict[int, dict[str, Any]] = {}
    errors: list[str] = []
    for site_id, q in quotas.items():
        site_id = int(site_id)
        req = requested.get(site_id)
        if req is None:
            errors.append(_("No resources were requested on site %(site)s.") % {"site": site_id})
            continue
        gpu, cpu = int(q.get("gpu_hours") or 0), int(q.get("cpu_core_hours") or 0)
        storage = Decimal(str(q.get("storage_tb") or 0))
        if gpu < 0 or cpu < 0 or storage < 0:
            errors.append(_("Quotas cannot be negative."))
            continue
        if gpu > req.gpu_hours or cpu > req.cpu_core_hours or storage > req.storage_tb:
            errors.append(_("Quotas on %(site)s may be lower than requested, never higher.") % {"site": req.site.name})
            continue
        if gpu or cpu or storage:
            cleaned[site_id] = {"gpu_hours": gpu, "cpu_core_hours": cpu, "storage_tb": storage}
    if not cleaned and not errors:
        errors.append(_("Grant something on at least one site."))
    if errors:
        raise ValidationError(errors)
    return cleaned


def reserve_capacity(*, period_start, quotas: dict[int, dict[str, Any]]) -> None:
    """Lock the site-period rows (in a fixed order, against deadlocks) and commit the quotas.

    Raises ValidationError naming the site when a quota does not fit."""
    rows = {c.site_id: c for c in SiteCapacity.objects.select_for_update()
            .filter(site_id__in=sorted(quotas), period_start=period_start).order_by("site_id")}
    for site_id, q in sorted(quotas.items()):
        cap = rows.get(site_id)
        if cap is None:
            raise ValidationError(_("No capacity is published for that site and quarter."))
        if q["gpu_hours"] > cap.remaining_gpu_hours or q["cpu_core_hours"] > cap.remaining_cpu_core_hours:
            raise ValidationError(_("%(site)s does not have enough capacity left for %(period)s: %(gpu)s GPU-hours and "
                                    "%(cpu)s CPU core-hours remain.") % {
                "site": cap.site.name, "period": period_start, "gpu": f"{cap.remaining_gpu_hours:,}",
                "cpu": f"{cap.remaining_cpu_core_hours:,}"})
        cap.committed_gpu_hours += q["gpu_hours"]
        cap.committed_cpu_core_hours += q["cpu_core_hours"]
        cap.committed_storage_tb += q["storage_tb"]
        cap.save(update_fields=["committed_gpu_hours", "committed_cpu_core_hours", "committed_storage_tb"])


def application_approve(*, actor, application: Application, quotas: dict[int, dict[str, Any]],
                        reasons: str = "") -> Allocation:
    """Approve and create the allocation. Idempotent: a second approval returns the same allocation."""
    _require_manager(actor)
    with transaction.atomic():
        app = Application.objects.select_for_update(of=("self",)).select_related("organisation", "access_mode").get(
            pk=application.pk)
        if app.status == ApplicationStatus.APPROVED:
            return app.allocation
        if app.status != ApplicationStatus.AWAITING_DECISION:
            raise ValidationError(_("Only applications whose reviews are complete can be approved."))
        blockers = approval_blockers(app)
        if blockers:
            raise ValidationError(blockers)
        cleaned = _clean_quotas(app, quotas)
        reserve_capacity(period_start=quarter_start(app.start_date), quotas=cleaned)
        allocation = Allocation.objects.create(
            application=app, organisation=app.organisation, reference=app.reference,
            start_date=app.start_date, end_date=application_end_date(app),
            slurm_account=slurm_account_for(app.reference))
        for site_id, q in cleaned.items():
            AllocationQuota.objects.create(allocation=allocation, site_id=site_id, **q)
        Decision.objects.create(application=app, outcome=DecisionOutcome.APPROVED, reasons=reasons, decided_by=actor)
        # Keep the returned allocation's application current (the transition saves a fresh locked copy).
        quotas_audit = {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in cleaned.items()}
        allocation.application = application_transition(
            actor=actor, application=app, to=ApplicationStatus.APPROVED,
            changes={"allocation": allocation.reference, "quotas": quotas_audit})
        audit_record(actor=actor, action=AuditAction.ALLOCATION_CREATED, target=allocation,
                     changes={"application_id": app.pk, "slurm_account": allocation.slurm_account,
                              "start_date": allocation.start_date, "end_date": allocation.end_date})
        # The account is created blocked; it opens when the start date comes and conditions are acknowledged.
        mark_needs_sync(allocation)
    return allocation


def application_reject(*, actor, application: Application, reasons: str) -> Application:
    _require_manager(actor)
    if not reasons.strip():
        raise ValidationError({"reasons": _("Give the reasons for the rejection.")})
    with transaction.atomic():
        app = application_transition(actor=actor, application=application, to=ApplicationStatus.REJECTED,
                                     changes={"reasons": reasons.strip()[:2000]})
        Decision.objects.create(application=app, outcome=DecisionOutcome.REJECTED, reasons=reasons.strip(),
                                decided_by=actor)
    return app


def application_request_revision(*, actor, application: Application, comments: str) -> Application:
    _require_manager(actor)
    if not comments.strip():
        raise ValidationError({"comments": _("Tell the applicant what to revise.")})
    with transaction.atomic():
        app = application_transition(actor=actor, application=application,
                                     to=ApplicationStatus.REVISION_REQUESTED, changes={"comments": comments[:2000]})
        Decision.objects.create(application=app, outcome=DecisionOutcome.REVISION_REQUESTED,
                                comments_for_applicant=comments.strip(), decided_by=actor)
    return app
