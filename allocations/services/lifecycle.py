"""Allocation lifecycle: start, activation after provisioning, suspension, expiry, revocation, changes."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from compliance.services import conditions_outstanding
from portal.audit import AuditAction, audit_record
from portal.emails import send_templated_email_on_commit

from .. import permissions
from ..lifecycle import RUNNABLE, allowed
from ..models import (
    Allocation,
    AllocationQuota,
    AllocationStatus,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    TeamMember,
)
from ..models.reference import quarter_start
from .decisions import reserve_capacity
from .sync import mark_needs_sync


def _actor_may(actor, role: str) -> bool:
    if role == "system":
        return actor is None or permissions.can_manage(actor)
    return permissions.can_manage(actor)


def allocation_transition(*, actor, allocation: Allocation, to: str, reason: str = "") -> Allocation:
    """Lock, check the table and the actor, save, audit, mark for provisioning when the cluster must change."""
    with transaction.atomic():
        alloc = Allocation.objects.select_for_update().get(pk=allocation.pk)
        if alloc.status == to:
            return alloc
        role = allowed(alloc.status, to)
        if role is None:
            raise ValidationError(_("An allocation that is %(current)s cannot become %(target)s.") % {
                "current": alloc.get_status_display(), "target": AllocationStatus(to).label})
        if not _actor_may(actor, role):
            raise PermissionDenied(_("Only allocation managers can change an allocation's state."))
        if to in {AllocationStatus.SUSPENDED, AllocationStatus.REVOKED} and not reason.strip():
            raise ValidationError({"reason": _("Give a reason.")})
        old = alloc.status
        alloc.status = to
        alloc.status_reason = reason.strip()
        alloc.save(update_fields=["status", "status_reason"])
        audit_record(actor=actor, action=AuditAction.ALLOCATION_STATUS_CHANGED, target=alloc,
                     changes={"status": [old, to], "reason": reason.strip()[:1000]})
        # Whether jobs may run changes with these transitions: the clusters must follow.
        if (old in RUNNABLE) != (to in RUNNABLE):
            mark_needs_sync(alloc)
        recipients = list(Membership.objects.filter(organisation_id=alloc.organisation_id)
                          .values_list("user__email", flat=True))
        send_templated_email_on_commit(
            to=recipients, template="allocations/email/allocation_status",
            context={"reference": alloc.reference, "status": alloc.get_status_display(), "reason": reason})
    return alloc


def allocation_suspend(*, actor, allocation: Allocation, reason: str) -> Allocation:
    return allocation_transition(actor=actor, allocation=allocation, to=AllocationStatus.SUSPENDED, reason=reason)


def allocation_resume(*, actor, allocation: Allocation, reason: str = "") -> Allocation:
    return allocation_transition(actor=actor, allocation=allocation, to=AllocationStatus.ACTIVE, reason=reason)


def allocation_revoke(*, actor, allocation: Allocation, reason: str) -> Allocation:
    return allocation_transition(actor=actor, allocation=allocation, to=AllocationStatus.REVOKED, reason=reason)


def allocation_start_if_due(*, allocation: Allocation, today: datetime.date | None = None) -> Allocation:
    """approved -> provisioning once the start date has come and every ethics condition is acknowledged."""
    today = today or timezone.localdate()
    if allocation.status != AllocationStatus.APPROVED or allocation.start_date > today:
        return allocation
    if conditions_outstanding(allocation.application):
        return allocation
    return allocation_transition(actor=None, allocation=allocation, to=AllocationStatus.PROVISIONING)


def allocation_expire_if_due(*, allocation: Allocation, today: datetime.date | None = None) -> Allocation:
    today = today or timezone.localdate()
    if allocation.end_date > today or allocation.status not in (AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED):
        return allocation
    return allocation_transition(actor=None, allocation=allocation, to=AllocationStatus.EXPIRED,
                                 reason="end date reached")


def allocation_mark_synced(*, allocation_id: int, version: int) -> Allocation:
    """Called by provisioning after a verified read-back of `version` of the desired state."""
    from ..models import SyncState

    with transaction.atomic():
        alloc = Allocation.objects.select_for_update().get(pk=allocation_id)
        if version > alloc.synced_version:
            alloc.synced_version = version
        if alloc.synced_version >= alloc.desired_version:
            alloc.sync_state = SyncState.IN_SYNC
        alloc.last_synced_at = timezone.now()
        alloc.save(update_fields=["synced_version", "sync_state", "last_synced_at"])
        if alloc.status == AllocationStatus.PROVISIONING and alloc.sync_state == SyncState.IN_SYNC:
            allocation_transition(actor=None, allocation=alloc, to=AllocationStatus.ACTIVE)
            alloc.refresh_from_db()
    return alloc


def desired_users(allocation: Allocation) -> list[str]:
    """Cluster usernames of the team members who confirmed."""
    return sorted(TeamMember.objects.filter(application_id=allocation.application_id)
                  .exclude(confirmed_at=None).values_list("cluster_username", flat=True))


# ------------------------------------------------------------------------------ change requests

def change_request_submit(*, actor, allocation: Allocation, kind: str, payload: dict[str, Any],
                          justification: str) -> ChangeRequest:
    if not Membership.objects.filter(user=actor, organisation_id=allocation.organisation_id).exists():
        raise PermissionDenied(_("Only members of the organisation can ask for changes."))
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": _("Unknown kind of change.")})
    if not justification.strip():
        raise ValidationError({"justification": _("Justify the change.")})
    if allocation.status not in (AllocationStatus.APPROVED, AllocationStatus.PROVISIONING, AllocationStatus.ACTIVE,
                                 AllocationStatus.SUSPENDED):
        raise ValidationError(_("This allocation can no longer be changed."))
    payload = _clean_change_payload(allocation, kind, payload)
    with transaction.atomic():
        cr = ChangeRequest.objects.create(allocation=allocation, kind=kind, payload=payload,
                                          justification=justification.strip(), requested_by=actor)
        audit_record(actor=actor, action=AuditAction.CHANGE_REQUEST_SUBMITTED, target=allocation,
                     changes={"change_request_id": cr.pk, "kind": kind, "payload": payload})
    return cr


def _clean_change_payload(allocation: Allocation, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == ChangeKind.EXTENSION:
        try:
            end = datetime.date.fromisoformat(str(payload.get("end_date")))
        except ValueError as exc:
            raise ValidationError({"end_date": _("Give the new end date (YYYY-MM-DD).")}) from exc
        if end <= allocation.end_date:
            raise ValidationError({"end_date": _("The new end date must be after the current one.")})
        return {"end_date": end.isoformat()}
    if kind == ChangeKind.TOP_UP:
        sites = {}
        for site_id, q in (payload.get("quotas") or {}).items():
            gpu, cpu = int(q.get("gpu_hours") or 0), int(q.get("cpu_core_hours") or 0)
            if gpu < 0 or cpu < 0:
                raise ValidationError({"quotas": _("A top-up cannot be negative.")})
            if gpu or cpu:
                sites[str(int(site_id))] = {"gpu_hours": gpu, "cpu_core_hours": cpu}
        if not sites:
            raise ValidationError({"quotas": _("Ask for more GPU-hours or CPU core-hours on at least one site.")})
        return {"quotas": sites}
    members = []
    for m in payload.get("members") or []:
        tm = TeamMember(full_name=str(m.get("full_name", "")).strip(), email=str(m.get("email", "")).strip().lower(),
                        cluster_username=str(m.get("cluster_username", "")).strip())
        tm.full_clean(exclude=["application", "token_hash"], validate_unique=False)
        members.append({"full_name": tm.full_name, "email": tm.email, "cluster_username": tm.cluster_username})
    if not members:
        raise ValidationError({"members": _("Name at least one new member.")})
    return {"members": members}


def change_request_decide(*, actor, change_request: ChangeRequest, approve: bool, reason: str = "") -> ChangeRequest:
    if not permissions.can_manage(actor):
        raise PermissionDenied(_("Only allocation managers decide on changes."))
    with transaction.atomic():
        cr = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if cr.status != ChangeStatus.SUBMITTED:
            return cr
        alloc = Allocation.objects.select_for_update().get(pk=cr.allocation_id)
        if approve:
            _apply_change(alloc, cr)
        cr.status = ChangeStatus.APPROVED if approve else ChangeStatus.REJECTED
        cr.decided_by = actor
        cr.decided_at = timezone.now()
        cr.decision_reason = reason.strip()
        cr.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit_record(actor=actor, action=AuditAction.CHANGE_REQUEST_DECIDED, target=alloc,
                     changes={"change_request_id": cr.pk, "kind": cr.kind, "approved": approve})
        if approve:
            mark_needs_sync(alloc)
    return cr


def _apply_change(alloc: Allocation, cr: ChangeRequest) -> None:
    if cr.kind == ChangeKind.EXTENSION:
        alloc.end_date = datetime.date.fromisoformat(cr.payload["end_date"])
        alloc.save(update_fields=["end_date"])
    elif cr.kind == ChangeKind.TOP_UP:
        quotas = {int(k): {"gpu_hours": v["gpu_hours"], "cpu_core_hours": v["cpu_core_hours"],
                           "storage_tb": Decimal("0")} for k, v in cr.payload["quotas"].items()}
        reserve_capacity(period_start=quarter_start(alloc.start_date), quotas=quotas)
        for site_id, q in quotas.items():
            quota, _created = AllocationQuota.objects.select_for_update().get_or_create(
                allocation=alloc, site_id=site_id)
            quota.gpu_hours += q["gpu_hours"]
            quota.cpu_core_hours += q["cpu_core_hours"]
            quota.save(update_fields=["gpu_hours", "cpu_core_hours"])
    else:
        for m in cr.payload["members"]:
            TeamMember.objects.get_or_create(
                application_id=alloc.application_id, email=m["email"],
                defaults={"full_name": m["full_name"], "cluster_username": m["cluster_username"],
                          "invited_at": timezone.now(), "confirmed_at": timezone.now()})
