"""An audit event's changes in words: "Status: Awaiting decision → Approved", "Kind: Technical".

The chain stores codes, ids and counts (never a name), as JSON. A report prints each change as
"field: value" or "field: old → new", with the field's translated name and each code as its enum's label,
so that the record of a decision reads without knowing the portal's internals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ApiTokenScope, MembershipRole, NotificationDelivery, Sector
from accounts.roles import Role
from allocations.applications.models import Application, ApplicationStatus, AttachmentKind, EthicsIssue
from allocations.catalogue.models import Site
from allocations.grants.models import AllocationStatus, ChangeKind, ChangeStatus
from allocations.review.models import AssignmentStatus, Review, ReviewKind
from portal.audit_actions import AuditAction
from portal.vocabulary import choice_label

from ..ai_act.risk import RiskClass
from ..models import EthicsStatus, ReportAudience, ReportKind, ReportStatus

# The enum of a workflow's "status", by the action that moved it.
STATUS_BY_ACTION: dict[str, type[models.Choices]] = {
    AuditAction.APPLICATION_STATUS_CHANGED: ApplicationStatus,
    AuditAction.ALLOCATION_STATUS_CHANGED: AllocationStatus,
    AuditAction.REVIEW_ASSIGNMENT_CHANGED: AssignmentStatus,
    AuditAction.REVIEW_COI_DECLARED: AssignmentStatus,
    AuditAction.REVIEW_SUBMITTED: AssignmentStatus,
    AuditAction.REVIEW_ASSIGNMENT_CANCELLED: AssignmentStatus,
    AuditAction.CHANGE_REQUEST_DECIDED: ChangeStatus,
    AuditAction.CHANGE_REQUEST_WITHDRAWN: ChangeStatus,
    AuditAction.ETHICS_REVIEW_OPENED: EthicsStatus,
    AuditAction.ETHICS_REVIEW_AUTO_CLEARED: EthicsStatus,
    AuditAction.ETHICS_REVIEW_DECIDED: EthicsStatus,
    AuditAction.REPORT_GENERATED: ReportStatus,
    AuditAction.REPORT_FAILED: ReportStatus,
}
KIND_BY_PREFIX: dict[str, type[models.Choices]] = {
    "review.": ReviewKind, "change_request.": ChangeKind, "attachment.": AttachmentKind, "report.": ReportKind,
}
# Keys whose values are codes of one enum, whatever the action.
ENUM_FIELDS: dict[str, type[models.Choices]] = {
    "role": MembershipRole, "as": Role, "delivery": NotificationDelivery, "scopes": ApiTokenScope,
    "classification": RiskClass, "risk_class": RiskClass, "yes": EthicsIssue, "sector": Sector,
    "audience": ReportAudience,
}

FIELD_LABELS = {
    "status": gettext_lazy("Status"), "reason": gettext_lazy("Reason"), "reasons": gettext_lazy("Reasons"),
    "kind": gettext_lazy("Kind"), "comments": gettext_lazy("Comments"), "eligibility": gettext_lazy("Eligible"),
    "conflict": gettext_lazy("Conflict of interest"), "weighted_score": gettext_lazy("Weighted score"),
    "scores": gettext_lazy("Scores"), "recommendation": gettext_lazy("Recommendation"),
    "allocation": gettext_lazy("Allocation"), "quotas": gettext_lazy("Quotas"),
    "triggers": gettext_lazy("Why"), "conditions": gettext_lazy("Conditions"),
    "sha256": gettext_lazy("SHA-256"), "size": gettext_lazy("Size"), "fields": gettext_lazy("Fields"),
    "yes": gettext_lazy("Declared"), "version": gettext_lazy("Version"), "language": gettext_lazy("Language"),
    "site": gettext_lazy("Site"), "sites": gettext_lazy("Sites"), "cluster": gettext_lazy("Cluster"),
    "desired_version": gettext_lazy("Desired state version"), "threshold": gettext_lazy("Threshold"),
    "percent": gettext_lazy("Used"), "job_ids": gettext_lazy("Jobs"), "running_job_ids": gettext_lazy("Running jobs"),
    "payload": gettext_lazy("Request"), "role": gettext_lazy("Role"), "as": gettext_lazy("As"),
    "name": gettext_lazy("Name"), "prefix": gettext_lazy("Prefix"), "scopes": gettext_lazy("Scopes"),
    "expires_at": gettext_lazy("Expires"), "delivery": gettext_lazy("E-mail"), "counts": gettext_lazy("Counts"),
    "error": gettext_lazy("Error"), "valid": gettext_lazy("Valid"), "length": gettext_lazy("Length (characters)"),
    "classification": gettext_lazy("Classification"), "sector": gettext_lazy("Sector"),
    "audience": gettext_lazy("Version"), "gpu_hours": gettext_lazy("GPU-hours"),
    "cpu_core_hours": gettext_lazy("CPU core-hours"), "storage_tb": gettext_lazy("Storage (TB)"),
    "reference": gettext_lazy("Reference"), "start_date": gettext_lazy("Start date"),
    "end_date": gettext_lazy("End date"), "members": gettext_lazy("Members"),
    "assignment_id": gettext_lazy("Review assignment number"), "reviewer_id": gettext_lazy("Reviewer's user number"),
    "application_id": gettext_lazy("Application number"), "condition_id": gettext_lazy("Condition number"),
    "change_request_id": gettext_lazy("Change request number"),
    "organisation_id": gettext_lazy("Organisation number"), "user_id": gettext_lazy("User number"),
    "declaration_id": gettext_lazy("Declaration number"),
}
TRIGGERS = {"dual_use": gettext_lazy("Dual use declared"),
            "not_civilian": gettext_lazy("Not an exclusively civilian purpose")}


def _field_label(key: str) -> str:
    if key in FIELD_LABELS:
        return str(FIELD_LABELS[key])
    if key.endswith("_id"):
        return _("Number of the %(thing)s") % {"thing": key.removesuffix("_id").replace("_", " ")}
    try:
        name = getattr(Application._meta.get_field(key), "verbose_name", None)
    except FieldDoesNotExist:  # a key of another object
        name = None
    return str(name).capitalize() if name else key.replace("_", " ").capitalize()


def _trigger(code: str) -> str:
    family, _sep, value = code.partition(":")
    if family == "sector":
        return _("Sensitive sector: %(sector)s") % {"sector": choice_label(Sector, value)}
    if family == "ethics_issue":
        return str(choice_label(EthicsIssue, value))
    if family == "ai_act":
        return _("AI Act: %(conclusion)s") % {"conclusion": choice_label(RiskClass, value)
                                              if value in RiskClass.values else value.replace("_", " ")}
    return str(TRIGGERS.get(code, code.replace("_", " ")))


def _scalar(value, enum: type[models.Choices] | None, key: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(enum, dict):
        return str(enum.get(str(value), value))
    if enum is not None and str(value) in enum.values:
        return str(choice_label(enum, str(value)))
    if key == "triggers":
        return _trigger(str(value))
    if key == "fields":
        return _field_label(str(value)).lower()
    if isinstance(value, int | float | Decimal):
        return number_format(value, force_grouping=True)
    if isinstance(value, str):
        if key in ("weighted_score", "percent"):
            try:
                return number_format(Decimal(value).quantize(Decimal("0.1")), force_grouping=True)
            except InvalidOperation:
                return value
        if value.isdigit():
            return number_format(int(value), force_grouping=True)
        if len(value) == 10 and (day := parse_date(value)) is not None:
            return date_format(day, "SHORT_DATE_FORMAT")
        if len(value) > 10 and (moment := parse_datetime(value)) is not None:
            return date_format(timezone.localtime(moment) if timezone.is_aware(moment) else moment,
                               "SHORT_DATETIME_FORMAT")
    return str(value)


def _value(value, enum, key: str) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_field_label(k)}: {_value(v, _enum_for(k, '', enum), k)}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(_value(v, enum, key) for v in value) or "—"
    return _scalar(value, enum, key)


def _enum_for(key: str, action: str, default=None):
    if key == "recommendation":
        return dict(Review._meta.get_field("recommendation").choices)
    if key == "status":
        return STATUS_BY_ACTION.get(action, default)
    if key == "kind":
        return next((e for prefix, e in KIND_BY_PREFIX.items() if action.startswith(prefix)), default)
    return ENUM_FIELDS.get(key) or default


def _quotas(value) -> str:
    """{site id: {gpu_hours: n, ...}} as "Zellik: GPU-hours: 400, CPU core-hours: 4,000"."""
    if not isinstance(value, dict):
        return _value(value, None, "quotas")
    names = {str(pk): name for pk, name in Site.objects.filter(pk__in=[k for k in value if k.isdigit()])
             .values_list("pk", "name")}
    return "; ".join(f"{names.get(site, site)}: {_value(q, None, 'quotas')}" for site, q in sorted(value.items()))


def change_lines(action: str, changes: dict | None) -> list[str]:
    """One line per changed field, in words: "field: value", or "field: old → new" for a move."""
    lines = []
    for key, value in sorted((changes or {}).items()):
        enum = _enum_for(key, action)
        if key == "quotas":
            lines.append(f"{_field_label(key)}: {_quotas(value)}")
        elif key in ("status", "role") and isinstance(value, list) and len(value) == 2:
            old, new = value
            lines.append(f"{_field_label(key)}: {_scalar(old, enum, key)} → {_scalar(new, enum, key)}")
        else:
            lines.append(f"{_field_label(key)}: {_value(value, enum, key)}")
    return lines
