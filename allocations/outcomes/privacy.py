"""What final reports and outputs hold about a person, for the *My data* export (registered from
allocations.privacy). Erasure keeps the rows: the report is the organisation's record the grant is closed
on, the review and the exception are the managers' decisions; their author becomes the pseudonymised user."""

from __future__ import annotations

from typing import Any

from .models import FinalReport, Output, SubmissionOverride


def _when(value) -> str | None:
    return value.isoformat() if value else None


def export_final_reports_submitted(user) -> list[dict[str, Any]]:
    return [{"allocation": r.allocation.reference, "status": r.status, "status_label": str(r.get_status_display()),
             "submitted_at": _when(r.submitted_at), "results": r.results, "lessons": r.lessons,
             "compute_use": r.compute_use, "ai_act_still_holds": r.ai_act_still_holds,
             "ai_act_explanation": r.ai_act_explanation}
            for r in FinalReport.objects.filter(submitted_by=user).select_related("allocation").order_by("pk")]


def export_outputs_recorded(user) -> list[dict[str, Any]]:
    return [{"allocation": o.allocation.reference, "kind": o.kind, "kind_label": str(o.get_kind_display()),
             "title": o.title, "link": o.link, "doi": o.doi, "recorded_at": _when(o.recorded_at)}
            for o in Output.objects.filter(recorded_by=user).select_related("allocation").order_by("pk")]


def export_final_reports_reviewed(user) -> list[dict[str, Any]]:
    return [{"allocation": r.allocation.reference, "status": r.status, "status_label": str(r.get_status_display()),
             "reviewed_at": _when(r.reviewed_at), "comment": r.review_comment}
            for r in FinalReport.objects.filter(reviewed_by=user).select_related("allocation").order_by("pk")]


def export_submission_overrides_granted(user) -> list[dict[str, Any]]:
    return [{"organisation": o.organisation.legal_name, "granted_at": _when(o.granted_at), "reason": o.reason,
             "used_at": _when(o.used_at)}
            for o in SubmissionOverride.objects.filter(granted_by=user).select_related("organisation").order_by("pk")]
