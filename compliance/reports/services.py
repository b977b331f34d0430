"""Request, generate and verify PDF reports; every step is written to the audit trail.

`report_request` checks who may ask for what, stores a queued Report and its `report.requested` event
in one transaction, and queues the Celery task on commit. `report_generate` (run by the task) renders
outside any long transaction, reporting progress as it goes, stores the files under
PRIVATE_MEDIA_ROOT/reports and records `report.generated` with the PDF's SHA-256. `report_verify`
answers whether some bytes are a PDF the portal issued, unaltered: the SHA-256 must be one it stored."""

from __future__ import annotations

import datetime
import gc
import hashlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Sector
from accounts.roles import Role, has_role
from allocations.applications.models import Application
from allocations.applications.permissions import is_applicant_member
from allocations.catalogue.models import AccessMode, Site
from portal.audit import AuditAction, audit_record
from portal.tasking import enqueue
from portal.workflow import TransitionError, transition

from ..models import Report, ReportAudience, ReportKind, ReportStatus
from ..workflow import REPORT_WORKFLOW
from . import csv_export, data

logger = logging.getLogger(__name__)

# compliance.tasks.generate_report, queued by name: the task module imports this one.
GENERATE_REPORT_TASK = "compliance.tasks.generate_report"

MAX_PERIOD_DAYS = 3 * 366
PORTAL_AUTHOR = "AI Factory portal (Zellik · Charleroi)"
TEMPLATES = {ReportKind.PERIOD: "compliance/reports/pdf/period.html",
             ReportKind.DOSSIER: "compliance/reports/pdf/dossier.html"}


# --- who may do what ---------------------------------------------------------------------------------


def can_request_period_report(user) -> bool:
    """Ethics officers and administrators (superusers hold every role)."""
    return has_role(user, Role.ETHICS_OFFICER)


def can_request_staff_dossier(user) -> bool:
    return has_role(user, Role.ETHICS_OFFICER) or has_role(user, Role.ALLOCATION_MANAGER)


def report_language(language: str | None) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    language = (language or "").split("-")[0]
    return language if language in codes else settings.LANGUAGE_CODE


# --- files ------------------------------------------------------------------------------------------


def report_dir() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "reports"


def report_file(name: str) -> Path | None:
    if not name:
        return None
    path = (report_dir() / name).resolve()
    return path if path.parent == report_dir().resolve() else None


def _write_atomically(name: str, content: bytes) -> None:
    directory = report_dir()
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.tmp"
    tmp.write_bytes(content)
    os.replace(tmp, directory / name)


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- request ----------------------------------------------------------------------------------------


def clean_period_filters(*, date_from: datetime.date, date_to: datetime.date, site: str = "", access_mode: str = "",
                         sector: str = "") -> data.PeriodFilters:
    errors: dict[str, str] = {}
    if date_from > date_to:
        errors["date_to"] = _("The end date must not be before the start date.")
    elif (date_to - date_from).days > MAX_PERIOD_DAYS:
        errors["date_to"] = _("A period report covers at most three years.")
    if site and not Site.objects.filter(code=site).exists():
        errors["site"] = _("Unknown site.")
    if access_mode and not AccessMode.objects.filter(code=access_mode).exists():
        errors["access_mode"] = _("Unknown access mode.")
    if sector and sector not in Sector.values:
        errors["sector"] = _("Unknown sector.")
    if errors:
        raise ValidationError(errors)
    return data.PeriodFilters(date_from=date_from, date_to=date_to, site=site or "", access_mode=access_mode or "",
                              sector=sector or "")


def report_request(*, actor, kind: str, language: str, params: dict | None = None,
                   application: Application | None = None, audience: str = ReportAudience.STAFF) -> Report:
    """Store a queued report with its `report.requested` event; generation starts after commit."""
    params = dict(params or {})
    if kind == ReportKind.PERIOD:
        if not can_request_period_report(actor):
            raise PermissionDenied(_("Only ethics officers and administrators generate period reports."))
        if application is not None or audience != ReportAudience.STAFF:
            raise ValidationError(_("A period report is a staff report about no single application."))
        try:
            date_from = datetime.date.fromisoformat(str(params.get("date_from")))
            date_to = datetime.date.fromisoformat(str(params.get("date_to")))
        except ValueError as exc:
            raise ValidationError(_("Give the period as two dates.")) from exc
        filters = clean_period_filters(date_from=date_from, date_to=date_to, site=params.get("site") or "",
                                       access_mode=params.get("access_mode") or "", sector=params.get("sector") or "")
        params = filters.to_params()
    elif kind == ReportKind.DOSSIER:
        if application is None:
            raise ValidationError(_("A dossier is about one application."))
        if audience == ReportAudience.STAFF and not can_request_staff_dossier(actor):
            raise PermissionDenied(_("Only ethics officers, allocation managers and administrators generate the "
                                     "staff dossier."))
        if audience == ReportAudience.APPLICANT and not is_applicant_member(actor, application):
            raise PermissionDenied(_("Only members of the applying organisation request its dossier."))
        if audience not in ReportAudience.values:
            raise ValidationError(_("Unknown audience."))
        params = {"reference": application.reference}
    else:
        raise ValidationError(_("Unknown report kind."))
    with transaction.atomic():
        report = Report.objects.create(kind=kind, audience=audience, application=application, params=params,
                                       language=report_language(language), requested_by=actor)
        audit_record(actor=actor, action=AuditAction.REPORT_REQUESTED, target=report, changes={
            "kind": kind, "audience": audience, "language": report.language, "params": params})
        report_id = report.pk
        transaction.on_commit(lambda: _enqueue(report_id))
    return report


def report_request_period(*, actor, date_from: datetime.date, date_to: datetime.date, site: str = "",
                          access_mode: str = "", sector: str = "", language: str) -> Report:
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "site": site or "",
              "access_mode": access_mode or "", "sector": sector or ""}
    return report_request(actor=actor, kind=ReportKind.PERIOD, language=language, params=params)


def report_request_dossier(*, actor, application: Application, audience: str, language: str) -> Report:
    return report_request(actor=actor, kind=ReportKind.DOSSIER, language=language, application=application,
                          audience=audience)


def _enqueue(report_id: int) -> None:
    # Broker down: logged, and the report stays queued until report_requeue_stale queues it again.
    enqueue(GENERATE_REPORT_TASK, report_id)


def report_requeue_stale(*, older_than_seconds: int = 900) -> int:
    """Queue again reports left queued (broker down at commit) or running on a lost worker."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    stale = list(Report.objects.filter(status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING],
                                       created_at__lt=cutoff).values_list("pk", flat=True))
    for report_id in stale:
        _enqueue(report_id)
    return len(stale)


# --- generate ---------------------------------------------------------------------------------------


def _set_progress(report_id: int, value: int, on_progress: Callable[[int], None] | None) -> None:
    Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(progress=value)
    if on_progress is not None:
        on_progress(value)


def _document_meta(report: Report, title: str, subject: str) -> dict[str, str]:
    created = timezone.now()
    return {"title": title, "author": PORTAL_AUTHOR, "subject": subject,
            "created": created.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "keywords": f"AI Factory, audit, {report.kind}, report {report.pk}"}


def report_context(report: Report, payload) -> dict:
    """The template context: the data, PDF metadata, the translated running header and footer.

    Call inside translation.override(report.language)."""
    from . import render  # WeasyPrint is imported by the worker that renders, not by every web process
    if report.kind == ReportKind.PERIOD:
        f = payload.filters
        title = _("Period report %(start)s to %(end)s") % {"start": f.date_from.isoformat(),
                                                            "end": f.date_to.isoformat()}
        subject = _("Decisions, risk classes, ethics outcomes, deadlines and provisioning in the period.")
    else:
        title = _("Application dossier %(reference)s") % {"reference": payload.application.reference}
        subject = (_("Complete dossier of one application, for staff.") if payload.staff
                   else _("Dossier of one application, for the applicant."))
    return {
        "report": report, "data": payload, "meta": _document_meta(report, title, subject),
        "css_header": render.css_string(f"{_('AI Factory')} · {title}"),
        "css_footer_left": render.css_string(_("Report #%(id)s · issued by the AI Factory portal") % {"id": report.pk}),
        "css_page_counter": render.css_page_counter(_("Page %(page)s of %(pages)s")),
    }


def build_report_html(report: Report, *, chain=None) -> tuple[str, bytes | None]:
    """The report's HTML (and CSV bytes for a period report), in the report's language."""
    from . import render  # WeasyPrint is imported by the worker that renders, not by every web process
    with translation.override(report.language):
        if report.kind == ReportKind.PERIOD:
            payload = data.period_data(data.PeriodFilters.from_params(report.params), chain=chain)
            csv_bytes = csv_export.period_csv(payload, language=report.language)
        else:
            payload = data.dossier_data(report.application_id, audience=report.audience, language=report.language,
                                        chain=chain)
            csv_bytes = None
        html = render.render_html(TEMPLATES[report.kind], report_context(report, payload), language=report.language)
    return html, csv_bytes


def report_generate(*, report_id: int, on_progress: Callable[[int], None] | None = None) -> Report:
    """Render one report. Idempotent: a report already done is returned as is; a failed or interrupted one
    is rendered again (the task retries). No transaction is held while rendering."""
    from . import render  # WeasyPrint is imported by the worker that renders, not by every web process

    def restart(r: Report) -> list[str]:
        r.progress = 5
        r.started_at = timezone.now()
        r.error = ""
        return ["progress", "started_at", "error"]

    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.is_done:
            return report
        if report.is_running:  # an attempt interrupted before it recorded anything: this one takes over
            report.save(update_fields=restart(report))
        else:
            report = transition(REPORT_WORKFLOW, actor=None, obj=report, to=ReportStatus.RUNNING, before_save=restart)
    if on_progress is not None:
        on_progress(5)
    try:
        html, csv_bytes = build_report_html(report)
        # The period's ORM objects are garbage now, but cyclic (prefetch caches point back): collect them
        # before the long layout, which would otherwise drag them through every full GC pass.
        gc.collect()
        _set_progress(report_id, 30, on_progress)
        with translation.override(report.language):
            document = render.layout(html)
        _set_progress(report_id, 75, on_progress)
        pdf = render.write_pdf(document)
        del document
        _set_progress(report_id, 90, on_progress)
        stem = f"report-{report.pk}-{uuid.uuid4().hex[:12]}"
        _write_atomically(f"{stem}.pdf", pdf)
        if csv_bytes is not None:
            _write_atomically(f"{stem}.csv", csv_bytes)
    except Exception as exc:
        _report_failed(report_id, exc)
        raise
    digest = sha256_hex(pdf)
    csv_digest = sha256_hex(csv_bytes) if csv_bytes is not None else ""

    def record(r: Report) -> list[str]:
        r.progress = 100
        r.file_name = f"{stem}.pdf"
        r.size = len(pdf)
        r.sha256 = digest
        r.csv_file_name = f"{stem}.csv" if csv_bytes is not None else ""
        r.csv_sha256 = csv_digest
        r.finished_at = timezone.now()
        return ["progress", "file_name", "size", "sha256", "csv_file_name", "csv_sha256", "finished_at"]

    report = transition(REPORT_WORKFLOW, actor=None, obj=report, to=ReportStatus.DONE, before_save=record,
                        action=AuditAction.REPORT_GENERATED, changes=lambda r: {
                            "sha256": digest, "size": len(pdf), "csv_sha256": csv_digest, "kind": r.kind,
                            "audience": r.audience, "requested_by_id": r.requested_by_id})
    if report.file_name != f"{stem}.pdf":  # another worker finished first: keep its files, not ours
        for suffix in (".pdf", ".csv"):
            (report_dir() / f"{stem}{suffix}").unlink(missing_ok=True)
        return report
    _remove_other_files(report_id, keep=stem)
    if on_progress is not None:
        on_progress(100)
    return report


def _remove_other_files(report_id: int, *, keep: str) -> None:
    """Delete what interrupted attempts of this report left behind: files written before the database
    recorded them (connection lost, worker killed) and half-written temporaries. Called by the attempt
    that recorded the report as done; a concurrent attempt whose file goes missing retries and finds the
    report done. Never served (downloads serve only the recorded file name), but never kept either."""
    directory = report_dir()
    for pattern in (f"report-{report_id}-*", f".report-{report_id}-*.tmp"):
        for path in directory.glob(pattern):
            if not path.name.lstrip(".").startswith(f"{keep}."):
                path.unlink(missing_ok=True)


def _report_failed(report_id: int, exc: Exception) -> None:
    logger.exception("report %s failed", report_id)

    def record(r: Report) -> list[str]:
        r.error = f"{type(exc).__name__}: {exc}"[:2000]
        r.finished_at = timezone.now()
        return ["error", "finished_at"]

    try:
        transition(REPORT_WORKFLOW, actor=None, obj=Report(pk=report_id), to=ReportStatus.FAILED, before_save=record,
                   action=AuditAction.REPORT_FAILED, changes={"error": type(exc).__name__})
    except (TransitionError, Report.DoesNotExist):
        pass  # done by another attempt (a success stands), or deleted


# --- verify -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportVerification:
    valid: bool
    sha256: str
    report: Report | None = None


# No report the portal issues comes near this; a larger upload is refused before it is read.
VERIFY_MAX_BYTES = 50 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


def report_verify_upload(*, actor, upload) -> ReportVerification:
    """Verify an uploaded file (the page and the API): refuse what cannot be an issued report (too large,
    or not a PDF by its first bytes) before reading it whole, then `report_verify`. A refused upload is
    not a verification and writes nothing."""
    if upload.size > VERIFY_MAX_BYTES:
        raise ValidationError({"file": _("This file is larger than any report the portal issues.")})
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if not head.startswith(PDF_MAGIC):
        raise ValidationError({"file": _("Only PDF documents are accepted; this file is not a PDF.")})
    return report_verify(actor=actor, content=b"".join(upload.chunks()))


def report_verify(*, actor, content: bytes) -> ReportVerification:
    """Is this exactly a PDF the portal issued? The lookup is by SHA-256 of the bytes; one changed byte
    gives another hash, found nowhere. Each verification is written to the audit trail."""
    digest = sha256_hex(content)
    report = (Report.objects.filter(sha256=digest, status=ReportStatus.DONE)
              .select_related("requested_by", "application").first())
    actor = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.REPORT_VERIFIED,
                     target=report if report is not None else ("compliance.report", "unknown"),
                     changes={"sha256": digest, "valid": report is not None, "size": len(content)})
    return ReportVerification(valid=report is not None, sha256=digest, report=report)
