"""The period report as CSV, safe to open in a spreadsheet.

A cell that starts with = + - @ (or a tab or carriage return) would be read as a formula by Excel and
LibreOffice (CSV injection, OWASP); such cells are prefixed with a single quote. The file is UTF-8
with a byte-order mark so that spreadsheet programs pick the encoding."""

from __future__ import annotations

import csv
import io

from django.utils import translation
from django.utils.translation import gettext as _

from .data import PeriodData

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def period_csv(data: PeriodData, *, language: str = "en") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with translation.override(language):
        writer.writerow([neutralise(h) for h in (
            _("Reference"), _("Title"), _("Organisation"), _("Sector"), _("Access mode"), _("Decided on"),
            _("Outcome"), _("Decided by"), _("Risk class"), _("Ethics outcome"),
            _("Conditions"), _("Conditions acknowledged"), _("Reviewers"), _("Decision due"), _("SLA"),
            _("Sites"), _("Allocation"), _("Allocation status"), _("Provisioning"), _("Last provisioning attempt"),
            _("Last attempt at"), _("Final report"), _("Outputs"))])
        for row in data.rows:
            writer.writerow([neutralise(v) for v in (
                row.reference, row.title, row.organisation, row.sector_label, row.access_mode_label,
                row.decided_on.isoformat(), row.outcome_label, row.decided_by, row.risk_label,
                row.ethics_label, row.conditions_total, row.conditions_acknowledged, "; ".join(row.reviewers),
                row.decision_due.isoformat() if row.decision_due else "", row.sla_label, "; ".join(row.sites),
                row.allocation_reference, row.allocation_status_label, row.sync_state_label,
                row.last_sync_outcome_label, row.last_sync_at.isoformat() if row.last_sync_at else "",
                row.final_report_label, row.outputs if row.allocation_reference else "")])
    return buffer.getvalue().encode("utf-8-sig")
