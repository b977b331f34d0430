"""What the compliance records hold about a person, for the export of accounts.privacy (registered from
ComplianceConfig.ready()).

Ethics decisions, their conditions and the reports are evidence the law asks the portal to keep: erasure
leaves them as they are, and the person who decided, acknowledged or asked for them is the pseudonymised
user row."""

from __future__ import annotations

from typing import Any

from compliance.models import EthicsCondition, EthicsReview, Report, ReportAudience
from portal import privacy as privacy_registry


def _when(value) -> str | None:
    return value.isoformat() if value else None


def export_ethics_decisions(user) -> list[dict[str, Any]]:
    return [{"application": r.application.reference, "status": r.status, "status_label": str(r.get_status_display()),
             "reasons": r.reasons, "decided_at": _when(r.decided_at)}
            for r in EthicsReview.objects.filter(decided_by=user).select_related("application").order_by("pk")]


def export_ethics_conditions_acknowledged(user) -> list[dict[str, Any]]:
    return [{"application": c.review.application.reference, "condition": c.text,
             "acknowledged_at": _when(c.acknowledged_at)}
            for c in EthicsCondition.objects.filter(acknowledged_by=user).select_related("review__application")
            .order_by("pk")]


def export_ethics_evidence_decided(user) -> list[dict[str, Any]]:
    """The evidence for conditions the person examined as an ethics officer."""
    return [{"application": c.review.application.reference, "condition": c.text,
             "evidence_status": c.evidence_status, "evidence_status_label": str(c.get_evidence_status_display()),
             "comment": c.evidence_comment, "decided_at": _when(c.evidence_decided_at)}
            for c in EthicsCondition.objects.filter(evidence_decided_by=user).select_related("review__application")
            .order_by("pk")]


def _reports(user, audience: str) -> list[dict[str, Any]]:
    return [{"kind": r.kind, "kind_label": str(r.get_kind_display()),
             "application": r.application.reference if r.application else None, "status": r.status,
             "status_label": str(r.get_status_display()), "created_at": _when(r.created_at), "sha256": r.sha256}
            for r in Report.objects.filter(requested_by=user, audience=audience).select_related("application")
            .order_by("pk")]


def export_reports_requested(user) -> list[dict[str, Any]]:
    """The dossiers the person asked for as an applicant."""
    return _reports(user, ReportAudience.APPLICANT)


def export_staff_reports_requested(user) -> list[dict[str, Any]]:
    return _reports(user, ReportAudience.STAFF)


def register() -> None:
    """Called from ComplianceConfig.ready()."""
    privacy_registry.register_exporter("ethics_decisions", export_ethics_decisions, covers=["compliance.EthicsReview"],
                                       staff=True)
    privacy_registry.register_exporter("ethics_conditions_acknowledged", export_ethics_conditions_acknowledged,
                                       covers=["compliance.EthicsCondition"])
    privacy_registry.register_exporter("ethics_evidence_decided", export_ethics_evidence_decided,
                                       covers=["compliance.EthicsCondition"], staff=True)
    privacy_registry.register_exporter("reports_requested", export_reports_requested, covers=["compliance.Report"])
    privacy_registry.register_exporter("staff_reports_requested", export_staff_reports_requested,
                                       covers=["compliance.Report"], staff=True)
