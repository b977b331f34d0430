"""The aid register: the ledger's lines of a period as CSV or JSON, the same for the command
(export_aid_register), the staff page and the API.

Each line: beneficiary, its VAT number, the single undertaking (the beneficiary and every enterprise linked to
it on the date of grant), the legal basis (code and label, with the block-exemption article), the date of
grant, the value and currency, the granting site. A correction is a line of its own, dated like the grant it
corrects, with a negative or positive value: the sum of a period's values is the aid granted in it."""

from __future__ import annotations

import csv
import datetime
import io
import json

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from allocations.aid.models import AidLedgerLine
from allocations.aid.selectors import register_lines
from compliance.reports.csv_export import neutralise

FORMATS = ("csv", "json")


def register_row(line: AidLedgerLine) -> dict:
    return {
        "beneficiary": line.beneficiary_name,
        "vat_number": line.beneficiary_vat,
        "single_undertaking": line.undertaking_label(),
        "legal_basis": line.legal_basis,
        "legal_basis_label": str(line.get_legal_basis_display()),
        "legal_basis_article": line.legal_basis_article,
        "granted_on": line.granted_on.isoformat(),
        "value": str(line.value),
        "currency": line.currency,
        "granting_site": line.site.name,
        "kind": line.kind,
        "kind_label": str(line.get_kind_display()),
        "allocation": line.allocation.reference,
        "line": line.pk,
        "corrects": line.corrects_id,
    }


def register_rows(*, start: datetime.date, end: datetime.date, basis: str = "") -> list[dict]:
    return [register_row(line) for line in register_lines(start=start, end=end, basis=basis)]


def register_csv(rows: list[dict], *, language: str = "en") -> bytes:
    """UTF-8 with a byte-order mark, formula-like cells neutralised (as the period report's CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with translation.override(language):
        writer.writerow([neutralise(h) for h in (
            _("Beneficiary"), _("VAT or enterprise number"), _("Single undertaking"), _("Legal basis"),
            _("Block-exemption article"), _("Date of grant"), _("Value"), _("Currency"), _("Granting site"),
            _("Kind"), _("Allocation"), _("Line"), _("Corrects line"))])
        for row in rows:
            writer.writerow([neutralise(v) for v in (
                row["beneficiary"], row["vat_number"], row["single_undertaking"], row["legal_basis_label"],
                row["legal_basis_article"], row["granted_on"], row["value"], row["currency"], row["granting_site"],
                row["kind_label"], row["allocation"], row["line"], row["corrects"] or "")])
    return buffer.getvalue().encode("utf-8-sig")


def register_json(rows: list[dict], *, start: datetime.date, end: datetime.date) -> bytes:
    document = {"from": start.isoformat(), "to": end.isoformat(), "currency": "EUR", "lines": rows}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def register_file(*, start: datetime.date, end: datetime.date, fmt: str, basis: str = "",
                  language: str = "en") -> tuple[bytes, str, str]:
    """(content, content type, file name) of the register from `start` to `end`."""
    rows = register_rows(start=start, end=end, basis=basis)
    name = f"aid-register-{start.isoformat()}-{end.isoformat()}.{fmt}"
    if fmt == "json":
        return register_json(rows, start=start, end=end), "application/json", name
    return register_csv(rows, language=language), "text/csv; charset=utf-8", name


def parse_period(start, end, fmt: str = "csv") -> tuple[datetime.date, datetime.date, str]:
    """The period and format as typed (YYYY-MM-DD, csv | json); a ValidationError names the wrong field."""
    errors, days = {}, {}
    for key, value in (("from", start), ("to", end)):
        if isinstance(value, datetime.date):
            days[key] = value
            continue
        try:
            days[key] = datetime.date.fromisoformat(str(value or "").strip())
        except ValueError:
            errors[key] = _("Give a date as YYYY-MM-DD.")
    if not errors and days["to"] < days["from"]:
        errors["to"] = _("The end of the period comes before its start.")
    if fmt not in FORMATS:
        errors["format"] = _("Choose csv or json.")
    if errors:
        raise ValidationError(errors)
    return days["from"], days["to"], fmt
