"""Allocation lifecycle: start, activation after provisioning, suspension, expiry, revocation, changes."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import Membership, NotificationKind
from accounts.notifications import notify_role
from accounts.permissions import is_member_of
from accounts.roles import Role
from allocations.aid.models import LedgerKind
from allocations.aid.services import aid_record_grant
from allocations.applications.models import Application, AttachmentKind, TeamMember
from allocations.applications.services import attachment_check, attachment_store, team_member_invite, team_sites
from allocations.catalogue.models import (
    Site,
    SiteCapacity,
    quarter_days,
    quarter_label,
    quarter_start,
    spread_pro_rata,
)
from allocations.catalogue.usernames import check_cluster_username
from allocations.grants.models import (
    Allocation,
    AllocationQuota,
    AllocationStatus,
    CapacityReservation,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    SyncState,
)
from allocations.grants.sync import mark_needs_sync
from allocations.grants.workflow import (
    ALLOCATION_WORKFLOW,
    CHANGE_REQUEST_WORKFLOW,
    CHANGEABLE,
    JOB_POLICY,
    NEEDS_REASON,
    TERMINAL,
)
from allocations.provisioning.models import UsageSnapshot
from compliance.models import EthicsCondition, EvidenceStatus
from compliance.services import conditions_outstanding
from portal.audit import AuditAction, audit_record
from portal.emails import portal_url, send_templated_email_on_commit
from portal.workflow import transition

logger = logging.getLogger(__name__)


def slurm_account_for(reference: str) -> str:
    """AIF-2026-0042 -> aif_2026_0042 (lowercase letters, digits, underscores: safe for sacctmgr)."""
    return reference.lower().replace("-", "_")


CapacityKey = tuple[int, datetime.date]  # (site id, first day of the quarter)


@dataclass(frozen=True)
class Reserved:
    gpu_hours: int = 0
    cpu_core_hours: int = 0
    storage_tb: Decimal = Decimal("0")

    def __bool__(self) -> bool:
        return bool(self.gpu_hours or self.cpu_core_hours or self.storage_tb)


def used_hours(allocation: Allocation) -> dict[int, tuple[int, int]]:
    """GPU-hours and CPU core-hours used so far per site, from the newest usage snapshot (whole hours,
    rounded up: a started hour is used)."""
    used: dict[int, tuple[int, int]] = {}
    for snap in UsageSnapshot.objects.filter(allocation=allocation).order_by("site_id", "-taken_at"):
        used.setdefault(snap.site_id, (-(-snap.gpu_minutes // 60), -(-snap.cpu_minutes // 60)))
    return used


#: A split per quarter as the manager sets it: site id -> quarter ("2027-Q1") -> {"gpu_hours", "cpu_core_hours"}.
RawSplit = dict[Any, dict[Any, dict[str, Any]]]
SPLIT_KINDS = ("gpu_hours", "cpu_core_hours")
MAX_HOURS = 2**63 - 1


def split_key(site_code: str, period: datetime.date | str, kind: str) -> str:
    """The name of a field of the split in an error: "split.<site code>.<quarter>.<kind>" (API and forms)."""
    label = period if isinstance(period, str) else quarter_label(period)
    return f"split.{site_code}.{label}.{kind}"


def _hours(value: Any) -> int | None:
    """A whole number of hours (an int, or a string of digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_HOURS else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def _clean_split(split: RawSplit, totals: dict[int, tuple[int, int]], first: datetime.date,
                 end: datetime.date) -> dict[int, dict[datetime.date, tuple[int, int]]]:
    """Check a manager's split against the quarters from ``first`` to ``end`` and the hours to spread per site
    (``totals``: what the quotas leave after the quarters already spent). A quarter left out gets nothing.
    Every error is keyed by the field it concerns (split_key)."""
    periods = {quarter_label(period): period for period, _days in quarter_days(first, end)}
    codes = {site.pk: site.code for site in Site.objects.filter(pk__in=totals)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[int, dict[datetime.date, tuple[int, int]]] = {}
    if not isinstance(split, dict):
        raise ValidationError({"split": _("Give the hours per site and quarter.")})
    for raw_site, quarters in split.items():
        site_id = _hours(raw_site)
        if site_id not in totals:
            errors.setdefault("split", []).append(_("The split names a site on which nothing is granted."))
            continue
        if not isinstance(quarters, dict):
            errors.setdefault("split", []).append(_("Give the hours per quarter."))
            continue
        rows: dict[datetime.date, tuple[int, int]] = {}
        for label, value in quarters.items():
            period = periods.get(str(label))
            if period is None:
                errors.setdefault("split", []).append(
                    _("%(quarter)s is not a quarter the allocation spans from %(first)s.") % {
                        "quarter": str(label)[:20], "first": quarter_label(first)})
                continue
            hours = []
            for kind in SPLIT_KINDS:
                n = _hours(value.get(kind, 0) if isinstance(value, dict) else None)
                if n is None:
                    errors.setdefault(split_key(codes[site_id], period, kind), []).append(
                        _("Give a whole number of hours, 0 or more."))
                hours.append(n or 0)
            rows[period] = (hours[0], hours[1])
        for index, kind in enumerate(SPLIT_KINDS):
            given, total = sum(r[index] for r in rows.values()), totals[site_id][index]
            if given != total and not any(key.startswith(f"split.{codes[site_id]}.") for key in errors):
                message = (_("The quarters add up to %(given)s GPU-hours; the grant leaves %(total)s to spread.")
                           if kind == "gpu_hours" else
                           _("The quarters add up to %(given)s CPU core-hours; the grant leaves %(total)s to spread."))
                errors.setdefault(split_key(codes[site_id], list(periods.values())[-1], kind), []).append(message % {
                    "given": number_format(given, force_grouping=True),
                    "total": number_format(total, force_grouping=True)})
        cleaned[site_id] = {period: rows.get(period, (0, 0)) for period in periods.values()}
    if errors:
        raise ValidationError(errors)
    return cleaned


def past_hours(existing: dict[CapacityKey, Reserved], site_id: int, current: datetime.date) -> tuple[int, int]:
    """GPU-hours and CPU core-hours that a site's quarters before ``current`` hold: that time is spent, and they
    keep it."""
    past = [r for key, r in existing.items() if key[0] == site_id and key[1] < current]
    return sum(r.gpu_hours for r in past), sum(r.cpu_core_hours for r in past)


def hours_to_spread(gpu_hours: int, cpu_core_hours: int, existing: dict[CapacityKey, Reserved], site_id: int,
                    current: datetime.date) -> tuple[int, int]:
    """What a site's quotas leave to spread over the quarters from ``current`` on (capacity_plan; the manager's
    split of a top-up starts from the same figures, grants.selectors.top_up_split_needs)."""
    past_gpu, past_cpu = past_hours(existing, site_id, current)
    return max(0, int(gpu_hours) - past_gpu), max(0, int(cpu_core_hours) - past_cpu)


def _planned(allocation: Allocation, quotas: dict[int, dict[str, Any]], existing: dict[CapacityKey, Reserved], *,
             today: datetime.date, ended: bool, split: RawSplit | None = None) -> dict[CapacityKey, Reserved]:
    """What the allocation should hold per site and quarter (see capacity_plan)."""
    cut = min(today, allocation.end_date) if ended else today
    current = quarter_start(cut)
    used = used_hours(allocation) if ended else {}
    wanted: dict[CapacityKey, Reserved] = {}
    first = max(allocation.start_date, today)
    totals: dict[int, tuple[int, int]] = {}
    for site_id, quota in quotas.items():
        wanted.update({key: r for key, r in existing.items() if key[0] == site_id and key[1] < current})
        if ended:
            # The quarter of the end keeps what was used beyond the earlier quarters' reservations, never
            # more than it held; storage is given back; the quarters after it are released.
            past_gpu, past_cpu = past_hours(existing, site_id, current)
            held = existing.get((site_id, current), Reserved())
            used_gpu, used_cpu = used.get(site_id, (0, 0))
            wanted[(site_id, current)] = Reserved(min(held.gpu_hours, max(0, used_gpu - past_gpu)),
                                                  min(held.cpu_core_hours, max(0, used_cpu - past_cpu)))
            continue
        totals[site_id] = hours_to_spread(quota["gpu_hours"], quota["cpu_core_hours"], existing, site_id, current)
    chosen = _clean_split(split, totals, first, allocation.end_date) if split is not None and not ended else {}
    for site_id, (gpu_total, cpu_total) in totals.items():
        storage = Decimal(str(quotas[site_id].get("storage_tb") or 0))
        if site_id in chosen:
            parts = [(period, gpu, cpu) for period, (gpu, cpu) in chosen[site_id].items()]
        else:
            parts = [(period, gpu, cpu) for (period, gpu), (_same, cpu) in zip(
                spread_pro_rata(gpu_total, first, allocation.end_date),
                spread_pro_rata(cpu_total, first, allocation.end_date), strict=True)]
        for period, gpu_hours, cpu_hours in parts:
            wanted[(site_id, period)] = Reserved(gpu_hours, cpu_hours, storage)
    return {key: r for key, r in wanted.items() if r}


def capacity_plan(*, allocation: Allocation, quotas: dict[int, dict[str, Any]] | None = None,
                  today: datetime.date | None = None, ended: bool = False,
                  split: RawSplit | None = None) -> dict[CapacityKey, Reserved]:
    """Reserve the allocation's quotas across every quarter it spans, or give back what it no longer needs.

    Runs inside the caller's transaction (the approval, the change request's approval, the transition
    to revoked or expired). Quarters that ended before today keep what they hold (that time is spent).
    A running allocation spreads what its quotas leave after those quarters over the quarters from
    today (or its start) to its end date, pro rata by days, the last quarter taking the remainder
    (catalogue.models.spread_pro_rata); so a top-up, an extension or a reduction re-plans the future
    only. The manager may set that spread instead (``split``, site id -> quarter label -> hours, see
    _clean_split): per site, the quarters must add up to exactly what is spread; a site the split leaves
    out is spread pro rata. An allocation that ends (``ended``: revoked, expired) keeps in the quarter
    of its end what it used beyond the earlier quarters and releases the rest and every later quarter.

    The capacity rows are locked in one order (site, quarter) before any is changed, so concurrent
    approvals queue instead of over-committing or deadlocking. A quarter without published capacity, or
    without room for the increase, raises a ValidationError naming the site and the quarter (keyed by
    the split's field when the manager set the split)."""
    today = today or timezone.localdate()
    if quotas is None:
        quotas = {q.site_id: {"gpu_hours": q.gpu_hours, "cpu_core_hours": q.cpu_core_hours,
                              "storage_tb": q.storage_tb} for q in allocation.quotas.all()}
    rows = {(r.site_id, r.period_start): r for r in
            CapacityReservation.objects.select_for_update().filter(allocation=allocation)}
    existing = {key: Reserved(r.gpu_hours, r.cpu_core_hours, r.storage_tb) for key, r in rows.items()}
    wanted = _planned(allocation, quotas, existing, today=today, ended=ended, split=split)
    nothing = Reserved()
    changed = sorted(key for key in set(existing) | set(wanted)
                     if existing.get(key, nothing) != wanted.get(key, nothing))
    if not changed:
        return wanted
    caps = {(c.site_id, c.period_start): c for c in SiteCapacity.objects.select_for_update().select_related("site")
            .filter(site_id__in={k[0] for k in changed}, period_start__in={k[1] for k in changed})
            .order_by("site_id", "period_start")}

    def refuse(key: CapacityKey, kind: str, message: str):
        if split is None:
            return ValidationError(message)
        return ValidationError({split_key(Site.objects.get(pk=key[0]).code, key[1], kind): message})

    for key in changed:
        before, after = existing.get(key, Reserved()), wanted.get(key, Reserved())
        gpu, cpu = after.gpu_hours - before.gpu_hours, after.cpu_core_hours - before.cpu_core_hours
        storage = after.storage_tb - before.storage_tb
        cap = caps.get(key)
        if cap is None:
            if gpu > 0 or cpu > 0 or storage > 0:
                raise refuse(key, "gpu_hours" if gpu > 0 else "cpu_core_hours",
                             _("No capacity is published for %(site)s in %(quarter)s.") % {
                                 "site": Site.objects.get(pk=key[0]).name, "quarter": quarter_label(key[1])})
            continue
        if gpu > cap.remaining_gpu_hours or cpu > cap.remaining_cpu_core_hours:
            raise refuse(key, "gpu_hours" if gpu > cap.remaining_gpu_hours else "cpu_core_hours",
                         _("%(site)s does not have enough capacity left for %(quarter)s: %(gpu)s GPU-hours "
                           "and %(cpu)s CPU core-hours remain.") % {
                             "site": cap.site.name, "quarter": quarter_label(key[1]),
                             "gpu": number_format(cap.remaining_gpu_hours, force_grouping=True),
                             "cpu": number_format(cap.remaining_cpu_core_hours, force_grouping=True)})
        cap.committed_gpu_hours += gpu
        cap.committed_cpu_core_hours += cpu
        cap.committed_storage_tb = max(Decimal("0"), cap.committed_storage_tb + storage)
        cap.save(update_fields=["committed_gpu_hours", "committed_cpu_core_hours", "committed_storage_tb"])
    for key in changed:
        after, row = wanted.get(key), rows.get(key)
        if after is None:
            row.delete()
        elif row is None:
            CapacityReservation.objects.create(allocation=allocation, site_id=key[0], period_start=key[1],
                                               gpu_hours=after.gpu_hours, cpu_core_hours=after.cpu_core_hours,
                                               storage_tb=after.storage_tb)
        else:
            row.gpu_hours, row.cpu_core_hours, row.storage_tb = after.gpu_hours, after.cpu_core_hours, after.storage_tb
            row.save(update_fields=["gpu_hours", "cpu_core_hours", "storage_tb"])
    return wanted


def split_audit(planned: dict[CapacityKey, Reserved]) -> dict[str, dict[str, list[int]]]:
    """A plan as the audit trail records a manager's split: site id -> quarter -> [GPU-hours, CPU core-hours]."""
    out: dict[str, dict[str, list[int]]] = {}
    for (site_id, period), r in sorted(planned.items()):
        out.setdefault(str(site_id), {})[quarter_label(period)] = [r.gpu_hours, r.cpu_core_hours]
    return out


def allocation_transition(*, actor, allocation: Allocation, to: str, reason: str = "") -> Allocation:
    """Move an allocation through its workflow (portal.workflow.transition); idempotent. Marks it for
    provisioning when whether jobs may run changes, and tells the organisation."""
    reason = reason.strip()

    def check(alloc: Allocation) -> None:
        if to in NEEDS_REASON and not reason:
            raise ValidationError({"reason": _("Give a reason.")})

    def set_reason(alloc: Allocation) -> list[str]:
        alloc.status_reason = reason
        return ["status_reason"]

    def follow_up(alloc: Allocation, old: str) -> None:
        # What the clusters do with the account and its jobs changes with these transitions: they must follow
        # (suspended -> expired too: the held jobs are cancelled).
        if JOB_POLICY[old] != JOB_POLICY[to]:
            mark_needs_sync(alloc)
        if to in TERMINAL:
            capacity_plan(allocation=alloc, ended=True)
        recipients = list(Membership.objects.filter(organisation_id=alloc.organisation_id)
                          .values_list("user__email", flat=True))
        send_templated_email_on_commit(
            to=recipients, template="allocations/email/allocation_status",
            context={"reference": alloc.reference, "status": AllocationStatus(alloc.status).label, "reason": reason,
                     "url": portal_url(alloc.get_absolute_url())})

    return transition(ALLOCATION_WORKFLOW, actor=actor, obj=allocation, to=to, check=check,
                      before_save=set_reason, changes={"reason": reason[:1000]}, then=follow_up)


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


def condition_evidence_submit(*, actor, allocation: Allocation, condition: EthicsCondition, upload) -> EthicsCondition:
    """A member of the organisation uploads the PDF a condition asks for (checked like every document and
    kept with the application's documents, under their access rule); it waits for an ethics officer, who
    is told. A new upload replaces one not yet accepted."""
    if not is_member_of(actor, allocation.organisation_id):
        raise PermissionDenied(_("Only members of the organisation upload evidence for its conditions."))
    attachment_check(upload)
    with transaction.atomic():
        alloc = Allocation.objects.select_for_update().select_related("application__organisation").get(pk=allocation.pk)
        cond = EthicsCondition.objects.select_for_update().get(pk=condition.pk,
                                                                 review__application_id=alloc.application_id)
        if alloc.status in TERMINAL:
            raise ValidationError({"file": _("This allocation has ended.")})
        if cond.evidence_status not in (EvidenceStatus.MISSING, EvidenceStatus.REJECTED, EvidenceStatus.SUBMITTED):
            raise ValidationError({"file": _("This condition asks for no evidence, or its evidence was accepted.")})
        app = alloc.application
        attachment = attachment_store(actor=actor, application=app, kind=AttachmentKind.CONDITION_EVIDENCE,
                                      upload=upload)
        cond.evidence = attachment
        cond.evidence_status = EvidenceStatus.SUBMITTED
        cond.evidence_comment = ""
        cond.evidence_decided_by = None
        cond.evidence_decided_at = None
        cond.save(update_fields=["evidence", "evidence_status", "evidence_comment", "evidence_decided_by",
                                 "evidence_decided_at"])
        audit_record(actor=actor, action=AuditAction.ETHICS_EVIDENCE_SUBMITTED, target=app,
                     changes={"condition_id": cond.pk, "attachment_id": attachment.pk, "sha256": attachment.sha256})
        notify_role(role=Role.ETHICS_OFFICER, kind=NotificationKind.EVIDENCE_SUBMITTED, exclude=actor,
                    params={"reference": app.reference, "organisation": app.organisation.legal_name,
                            "condition": cond.text[:200]},
                    link=reverse("compliance:ethics_review", args=[app.reference]))
    return cond


def allocation_expire_if_due(*, allocation: Allocation, today: datetime.date | None = None) -> Allocation:
    today = today or timezone.localdate()
    if allocation.end_date > today or allocation.status not in (AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED):
        return allocation
    return allocation_transition(actor=None, allocation=allocation, to=AllocationStatus.EXPIRED,
                                 reason="end date reached")


def allocation_mark_synced(*, allocation_id: int, version: int) -> Allocation:
    """Called by provisioning after a verified read-back of `version` of the desired state."""
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
    """Cluster usernames of the team members who confirmed (and were not erased since). What one site's
    association holds also depends on the terms of use: `provisioning.services.site_team`."""
    return sorted(TeamMember.objects.confirmed().filter(application_id=allocation.application_id)
                  .values_list("cluster_username", flat=True))


# ------------------------------------------------------------------------------ change requests

def change_request_submit(*, actor, allocation: Allocation, kind: str, payload: dict[str, Any],
                          justification: str) -> ChangeRequest:
    if not is_member_of(actor, allocation.organisation_id):
        raise PermissionDenied(_("Only members of the organisation can ask for changes."))
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": _("Unknown kind of change.")})
    if not justification.strip():
        raise ValidationError({"justification": _("Justify the change.")})
    if allocation.status not in CHANGEABLE:
        raise ValidationError(_("This allocation can no longer be changed."))
    payload = _clean_change_payload(allocation, kind, payload)
    with transaction.atomic():
        cr = ChangeRequest.objects.create(allocation=allocation, kind=kind, payload=payload,
                                          justification=justification.strip(), requested_by=actor)
        # New members are counted, not named: the chain keeps no name, address or username (the request's
        # row does, and erasure pseudonymises it there).
        audited = {"members": len(payload["members"])} if kind == ChangeKind.ADD_MEMBERS else payload
        audit_record(actor=actor, action=AuditAction.CHANGE_REQUEST_SUBMITTED, target=allocation,
                     changes={"change_request_id": cr.pk, "kind": kind, "payload": audited})
    return cr


#: The most storage one project holds on one site (AllocationQuota.storage_tb: 8 digits, 2 after the point).
MAX_STORAGE_TB = Decimal("999999.99")


def _storage_increment(value: Any) -> Decimal:
    """Extra TB asked for in a top-up: 0 when absent; a number with at most two decimals, not negative."""
    if value in (None, ""):
        return Decimal("0")
    try:
        tb = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValidationError({"quotas": _("Give the extra storage in TB, as a number.")}) from exc
    if not tb.is_finite() or tb < 0 or tb > MAX_STORAGE_TB or tb != tb.quantize(Decimal("0.01")):
        raise ValidationError({"quotas": _("Give the extra storage in TB: not negative, at most two decimals.")})
    return tb


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
        rows = payload.get("quotas") or {}
        offering = set(Site.objects.filter(pk__in=[int(k) for k in rows], offers_storage=True)
                       .values_list("pk", flat=True))
        held = {q.site_id: q.storage_tb for q in allocation.quotas.all()}
        for site_id, q in rows.items():
            gpu, cpu = int(q.get("gpu_hours") or 0), int(q.get("cpu_core_hours") or 0)
            storage = _storage_increment(q.get("storage_tb"))
            if gpu < 0 or cpu < 0:
                raise ValidationError({"quotas": _("A top-up cannot be negative.")})
            if storage and int(site_id) not in offering:
                raise ValidationError({"quotas": _("This site offers no storage.")})
            if storage and held.get(int(site_id), Decimal("0")) + storage > MAX_STORAGE_TB:
                raise ValidationError({"quotas": _("A project holds at most %(tb)s TB on a site.") % {
                    "tb": number_format(MAX_STORAGE_TB, decimal_pos=2, force_grouping=True)}})
            if gpu or cpu or storage:
                sites[str(int(site_id))] = {"gpu_hours": gpu, "cpu_core_hours": cpu,
                                            **({"storage_tb": f"{storage:.2f}"} if storage else {})}
        if not sites:
            raise ValidationError({"quotas": _("Ask for more GPU-hours, CPU core-hours or storage on at least one "
                                               "site.")})
        return {"quotas": sites}
    members = []
    sites = team_sites(allocation.application)
    for index, m in enumerate(payload.get("members") or []):
        tm = TeamMember(full_name=str(m.get("full_name", "")).strip(), email=str(m.get("email", "")).strip().lower(),
                        cluster_username=str(m.get("cluster_username", "")).strip())
        try:
            tm.full_clean(exclude=["application", "token_hash"], validate_unique=False)
            check_cluster_username(tm.cluster_username, sites)
        except ValidationError as exc:
            # Named by position, as the API names a nested field ("members.0.cluster_username").
            raise ValidationError({f"members.{index}.{field}": errors
                                   for field, errors in exc.error_dict.items()}) from exc
        members.append({"full_name": tm.full_name, "email": tm.email, "cluster_username": tm.cluster_username})
    if not members:
        raise ValidationError({"members": _("Name at least one new member.")})
    return {"members": members}


def change_request_decide(*, actor, change_request: ChangeRequest, approve: bool, reason: str = "",
                          aid_confirmed: bool = False, split: RawSplit | None = None) -> ChangeRequest:
    """Approve (and apply) or reject a change request; the same decision twice is a no-op. An approved top-up
    adds its value to the aid ledger, under the same ceiling as the first grant (`aid_confirmed`: the
    manager confirms a grant above it where the access mode warns instead of refusing). Approving a top-up,
    the manager may set how the hours left are spread over the quarters from today (`split`, see
    capacity_plan); the split is recorded with the decision."""
    to = ChangeStatus.APPROVED if approve else ChangeStatus.REJECTED
    if split is not None and (not approve or change_request.kind != ChangeKind.TOP_UP):
        raise ValidationError({"split": _("A split per quarter goes only with the approval of a top-up.")})
    planned: dict[str, Any] = {}

    def decide(cr: ChangeRequest) -> list[str]:
        if approve:
            planned["plan"] = _apply_change(Allocation.objects.select_for_update().get(pk=cr.allocation_id), cr,
                                            actor=actor, aid_confirmed=aid_confirmed, split=split)
        cr.decided_by = actor
        cr.decided_at = timezone.now()
        cr.decision_reason = reason.strip()
        return ["decided_by", "decided_at", "decision_reason"]

    def follow_up(cr: ChangeRequest, old: str) -> None:
        if approve:
            mark_needs_sync(cr.allocation)

    def changes(cr: ChangeRequest) -> dict[str, Any]:
        recorded = {"change_request_id": change_request.pk, "kind": change_request.kind, "approved": approve}
        if split is not None and planned.get("plan") is not None:
            recorded["capacity_split"] = split_audit(planned["plan"])
        return recorded

    return transition(CHANGE_REQUEST_WORKFLOW, actor=actor, obj=change_request, to=to, before_save=decide,
                      audit_target=lambda cr: cr.allocation, select_related=("allocation",),
                      changes=changes, then=follow_up)


def change_request_withdraw(*, actor, change_request: ChangeRequest) -> ChangeRequest:
    """The organisation takes back a change request the managers have not decided yet."""
    return transition(CHANGE_REQUEST_WORKFLOW, actor=actor, obj=change_request, to=ChangeStatus.WITHDRAWN,
                      action=AuditAction.CHANGE_REQUEST_WITHDRAWN, audit_target=lambda cr: cr.allocation,
                      select_related=("allocation",), changes={"change_request_id": change_request.pk})


def top_up_increments(cr: ChangeRequest) -> dict[int, dict[str, Any]]:
    """What a top-up adds per site id: GPU-hours, CPU core-hours and storage (TB, a Decimal)."""
    return {int(k): {"gpu_hours": int(v.get("gpu_hours") or 0), "cpu_core_hours": int(v.get("cpu_core_hours") or 0),
                     "storage_tb": Decimal(v.get("storage_tb") or "0")}
            for k, v in (cr.payload.get("quotas") or {}).items()}


def _apply_change(alloc: Allocation, cr: ChangeRequest, *, actor, aid_confirmed: bool = False,
                  split: RawSplit | None = None) -> dict[CapacityKey, Reserved] | None:
    """Apply an approved change; returns the capacity plan when the change re-planned it."""
    if cr.kind == ChangeKind.EXTENSION:
        alloc.end_date = datetime.date.fromisoformat(cr.payload["end_date"])
        alloc.save(update_fields=["end_date"])
        # What is left of the quotas spreads over the longer span.
        return capacity_plan(allocation=alloc)
    elif cr.kind == ChangeKind.TOP_UP:
        quotas = top_up_increments(cr)
        for site_id, q in quotas.items():
            quota, _created = AllocationQuota.objects.select_for_update().get_or_create(
                allocation=alloc, site_id=site_id)
            quota.gpu_hours += q["gpu_hours"]
            quota.cpu_core_hours += q["cpu_core_hours"]
            quota.storage_tb += q["storage_tb"]  # pushed to the site's storage backend by the next provisioning run
            quota.save(update_fields=["gpu_hours", "cpu_core_hours", "storage_tb"])
        plan = capacity_plan(allocation=alloc, split=split)
        # An extension only moves the end date: it grants no hours, so it adds no value to the ledger.
        aid_record_grant(actor=actor, allocation=alloc, quotas=quotas, kind=LedgerKind.TOP_UP, change_request=cr,
                         confirmed=aid_confirmed)
        return plan
    else:
        # Invited like any other member: they reach the clusters once they confirm by mail, and the
        # naming rules are checked again (a site's rule may have changed since the request).
        application = Application.objects.select_for_update().get(pk=alloc.application_id)
        for m in cr.payload["members"]:
            if application.team.filter(email=m["email"]).exists():
                continue
            # The manager's approval is the check on these addresses: the mails are counted, not refused.
            team_member_invite(actor=actor, application=application, full_name=m["full_name"], email=m["email"],
                               cluster_username=m["cluster_username"], limit_mails=False)
    return None


def _sweep_due(due: QuerySet[Allocation], service, today: datetime.date, which: str) -> int:
    moved = 0
    for allocation_id in due.values_list("pk", flat=True):
        allocation = Allocation.objects.get(pk=allocation_id)
        try:
            after = service(allocation=allocation, today=today)
        except Exception:  # one bad row must not stop the sweep; the next run retries it
            logger.exception("%s sweep failed for allocation %s", which, allocation_id)
            continue
        moved += after.status != allocation.status
    return moved


def allocations_start_due_sweep(*, today: datetime.date | None = None) -> int:
    """Every approved allocation whose start date came goes through allocation_start_if_due."""
    today = today or timezone.localdate()
    due = Allocation.objects.filter(status=AllocationStatus.APPROVED, start_date__lte=today)
    return _sweep_due(due, allocation_start_if_due, today, "start")


def allocations_expire_due_sweep(*, today: datetime.date | None = None) -> int:
    """Every active or suspended allocation whose end date is reached goes through allocation_expire_if_due."""
    today = today or timezone.localdate()
    due = Allocation.objects.filter(status__in=[AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED],
                                    end_date__lte=today)
    return _sweep_due(due, allocation_expire_if_due, today, "expire")
