"""Final reports, outputs, reminders and the submission block: every write of the domain.

A final report is opened (status due) for every allocation that started under an access mode asking for
one; its due date is the end date plus the mode's days. Members of the organisation write and submit it,
allocation managers accept it or ask for more (which gives a new due date). Outputs are recorded by the
members at any time from the start date. While a report of a mode that says so is overdue, the
organisation cannot submit a new application, unless a manager granted an override (one submission)."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Membership, NotificationKind, Organisation, User
from accounts.notifications import notify, notify_role
from accounts.permissions import can_manage
from accounts.roles import Role
from allocations.catalogue.models import FinalReportSection
from allocations.grants.models import Allocation, AllocationStatus
from portal.audit import AuditAction, audit_record
from portal.workflow import transition

from .doi import doi_url, normalise_doi
from .models import (
    EDITABLE_STATUSES,
    OPEN_STATUSES,
    FinalReport,
    FinalReportReminder,
    FinalReportStatus,
    Output,
    OutputKind,
    ReminderKind,
    SubmissionOverride,
    https_validator,
)
from .permissions import may_file
from .workflow import FINAL_REPORT_WORKFLOW

logger = logging.getLogger(__name__)

# Allocations that never started owe nothing: approved ones wait for their start.
NOT_STARTED = frozenset({AllocationStatus.APPROVED})
# The texts of a report, by the section that asks for them.
SECTION_FIELDS = {
    FinalReportSection.RESULTS: ["results"],
    FinalReportSection.LESSONS: ["lessons"],
    FinalReportSection.COMPUTE_USE: ["compute_use"],
    FinalReportSection.AI_ACT: ["ai_act_still_holds", "ai_act_explanation"],
}
TEXT_LIMIT = 20000


def reminder_days() -> int:
    return max(1, int(settings.AIF_FINAL_REPORT_REMINDER_DAYS))


def resubmit_days() -> int:
    return max(1, int(settings.AIF_FINAL_REPORT_RESUBMIT_DAYS))


def final_report_due_date(allocation: Allocation) -> datetime.date | None:
    """The end date plus the access mode's days; None when the mode asks for no final report."""
    mode = allocation.application.access_mode
    if mode is None or not mode.final_report_days:
        return None
    return allocation.end_date + datetime.timedelta(days=mode.final_report_days)


def _has_started(allocation: Allocation, today: datetime.date) -> bool:
    return allocation.status not in NOT_STARTED and allocation.start_date <= today


# --- opening the reports --------------------------------------------------------------------------


def final_report_open(*, allocation: Allocation, today: datetime.date | None = None) -> FinalReport | None:
    """The allocation's final report, opened (due, not started) if the mode asks for one and the
    allocation started; an open report's due date follows the end date (an extension moves it).
    Idempotent; None when no report is owed."""
    today = today or timezone.localdate()
    due = final_report_due_date(allocation)
    with transaction.atomic():
        report = FinalReport.objects.select_for_update().filter(allocation=allocation).first()
        if report is None:
            if due is None or not _has_started(allocation, today):
                return None
            try:
                with transaction.atomic():
                    report = FinalReport.objects.create(
                        allocation=allocation, due_date=due,
                        sections=list(allocation.application.access_mode.final_report_sections or []))
            except IntegrityError:  # opened meanwhile by another run
                report = FinalReport.objects.select_for_update().get(allocation=allocation)
        elif (due is not None and report.status in (FinalReportStatus.DUE, FinalReportStatus.DRAFT)
              and report.due_date != due and report.reviewed_at is None):
            report.due_date = due
            report.save(update_fields=["due_date", "updated_at"])
    return report


def final_reports_open_sweep(*, today: datetime.date | None = None) -> int:
    """Beat: open the final report of every started allocation whose mode asks for one, and keep the due
    dates of unsubmitted reports in step with extended end dates. Returns how many were opened."""
    today = today or timezone.localdate()
    candidates = (Allocation.objects.exclude(status__in=NOT_STARTED)
                  .filter(start_date__lte=today, application__access_mode__final_report_days__gt=0)
                  .filter(Q(final_report__isnull=True)
                          | Q(final_report__status__in=[FinalReportStatus.DUE, FinalReportStatus.DRAFT]))
                  .select_related("application__access_mode", "final_report"))
    opened = 0
    for allocation in candidates:
        existed = hasattr(allocation, "final_report")
        if existed and allocation.final_report.due_date == final_report_due_date(allocation):
            continue
        try:
            report = final_report_open(allocation=allocation, today=today)
        except Exception:  # one bad row must not stop the sweep; the next run retries it
            logger.exception("final report sweep failed for allocation %s", allocation.pk)
            continue
        opened += report is not None and not existed
    return opened


# --- the organisation's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTexts:
    results: str = ""
    lessons: str = ""
    compute_use: str = ""
    ai_act_still_holds: bool | None = None
    ai_act_explanation: str = ""


def _locked_report(report: FinalReport) -> FinalReport:
    return FinalReport.objects.select_for_update(of=("self",)).select_related(
        "allocation__application__access_mode", "allocation__organisation").get(pk=report.pk)


def _require_filer(actor, report: FinalReport) -> None:
    if not may_file(actor, report.allocation):
        raise PermissionDenied(_("Only members of the organisation can write its final report."))
    if report.status not in EDITABLE_STATUSES:
        raise ValidationError(_("This final report was submitted and can no longer be changed."))


def _apply_texts(report: FinalReport, texts: ReportTexts) -> list[str]:
    """Set the asked sections' fields (the others stay empty); return the names of those that changed."""
    changed = []
    values: dict[str, Any] = {
        "results": texts.results.strip(), "lessons": texts.lessons.strip(), "compute_use": texts.compute_use.strip(),
        "ai_act_still_holds": texts.ai_act_still_holds,
        "ai_act_explanation": texts.ai_act_explanation.strip() if texts.ai_act_still_holds is False else "",
    }
    errors = {name: _("At most %(n)s characters.") % {"n": f"{TEXT_LIMIT:,}"}
              for name, value in values.items() if isinstance(value, str) and len(value) > TEXT_LIMIT}
    if errors:
        raise ValidationError(errors)
    for section, fields in SECTION_FIELDS.items():
        for name in fields:
            value = values[name] if report.asks(section) else (None if name == "ai_act_still_holds" else "")
            if getattr(report, name) != value:
                setattr(report, name, value)
                changed.append(name)
    return changed


def final_report_save(*, actor, report: FinalReport, texts: ReportTexts) -> FinalReport:
    """Save what the organisation wrote so far (due -> draft); audited with the names of the changed parts."""
    with transaction.atomic():
        row = _locked_report(report)
        _require_filer(actor, row)
        changed = _apply_texts(row, texts)
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
            audit_record(actor=actor, action=AuditAction.FINAL_REPORT_SAVED, target=row,
                         changes={"allocation": row.allocation.reference, "fields": changed})
        if row.status == FinalReportStatus.DUE:
            row = transition(FINAL_REPORT_WORKFLOW, actor=actor, obj=row, to=FinalReportStatus.DRAFT,
                             select_related=("allocation",))
    return row


def _missing(report: FinalReport) -> dict[str, str]:
    errors = {}
    for section, field in ((FinalReportSection.RESULTS, "results"), (FinalReportSection.LESSONS, "lessons"),
                           (FinalReportSection.COMPUTE_USE, "compute_use")):
        if report.asks(section) and not getattr(report, field):
            errors[field] = _("Fill in this part of the report.")
    if report.asks(FinalReportSection.AI_ACT):
        if report.ai_act_still_holds is None:
            errors["ai_act_still_holds"] = _("Say whether the AI Act assessment still holds.")
        elif report.ai_act_still_holds is False and not report.ai_act_explanation:
            errors["ai_act_explanation"] = _("Explain what changed since the AI Act assessment.")
    return errors


def _members(organisation_id: int) -> list[User]:
    return [m.user for m in Membership.objects.filter(organisation_id=organisation_id, left_at=None)
            .select_related("user")]


def _params(report: FinalReport, **extra) -> dict[str, Any]:
    return {"reference": report.allocation.reference, "organisation": report.allocation.organisation.legal_name,
            "due": report.due_date.isoformat(), **extra}


def final_report_submit(*, actor, report: FinalReport, texts: ReportTexts,
                        today: datetime.date | None = None) -> FinalReport:
    """Save and submit the report to the allocation managers; every asked part must be filled in, and the
    allocation must have reached its end date. Refused, nothing is saved."""
    today = today or timezone.localdate()
    with transaction.atomic():
        row = _locked_report(report)
        _require_filer(actor, row)
        if row.allocation.end_date > today and row.allocation.status != AllocationStatus.REVOKED:
            raise ValidationError(_("The final report can be submitted from the allocation's end date, %(date)s.")
                                  % {"date": date_format(row.allocation.end_date, "j F Y")})
        changed = _apply_texts(row, texts)
        errors = _missing(row)
        if errors:
            raise ValidationError(errors)
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
            audit_record(actor=actor, action=AuditAction.FINAL_REPORT_SAVED, target=row,
                         changes={"allocation": row.allocation.reference, "fields": changed})

        def stamp(obj: FinalReport) -> list[str]:
            obj.submitted_at = timezone.now()
            obj.submitted_by = actor
            return ["submitted_at", "submitted_by", "updated_at"]

        def tell_managers(obj: FinalReport, old: str) -> None:
            notify_role(role=Role.ALLOCATION_MANAGER, kind=NotificationKind.FINAL_REPORT_SUBMITTED,
                        params=_params(row), link=_staff_link(row), exclude=actor)

        row = transition(FINAL_REPORT_WORKFLOW, actor=actor, obj=row, to=FinalReportStatus.SUBMITTED,
                         before_save=stamp, select_related=("allocation",),
                         changes={"allocation": row.allocation.reference}, then=tell_managers)
    return row


def _staff_link(report: FinalReport) -> str:
    return reverse("outcomes:staff_final_report", args=[report.allocation.reference])


def final_report_review(*, actor, report: FinalReport, accept: bool, comment: str = "",
                        today: datetime.date | None = None) -> FinalReport:
    """An allocation manager accepts the report, or asks for more with a comment: the report goes back to
    the organisation with a new due date (at least AIF_FINAL_REPORT_RESUBMIT_DAYS from today)."""
    today = today or timezone.localdate()
    comment = comment.strip()
    to = FinalReportStatus.ACCEPTED if accept else FinalReportStatus.MORE_ASKED

    def check(row: FinalReport) -> None:
        if not accept and not comment:
            raise ValidationError({"comment": _("Say what the report is missing.")})
        if len(comment) > TEXT_LIMIT:
            raise ValidationError({"comment": _("At most %(n)s characters.") % {"n": f"{TEXT_LIMIT:,}"}})

    def decide(row: FinalReport) -> list[str]:
        row.reviewed_at = timezone.now()
        row.reviewed_by = actor
        row.review_comment = comment
        fields = ["reviewed_at", "reviewed_by", "review_comment", "updated_at"]
        if not accept:
            row.due_date = max(row.due_date, today + datetime.timedelta(days=resubmit_days()))
            fields.append("due_date")
        return fields

    def tell_organisation(row: FinalReport, old: str) -> None:
        alloc = Allocation.objects.select_related("organisation").get(pk=row.allocation_id)
        row.allocation = alloc
        kind = NotificationKind.FINAL_REPORT_ACCEPTED if accept else NotificationKind.FINAL_REPORT_MORE_ASKED
        notify(recipients=_members(alloc.organisation_id), kind=kind,
               params=_params(row, comment=comment[:500]), link=row.get_absolute_url(), exclude=actor)

    return transition(FINAL_REPORT_WORKFLOW, actor=actor, obj=report, to=to, check=check, before_save=decide,
                      select_related=("allocation",),
                      changes=lambda row: {"allocation": row.allocation.reference,
                                           "due_date": row.due_date.isoformat()},
                      then=tell_organisation)


# --- outputs --------------------------------------------------------------------------------------


def output_record(*, actor, allocation: Allocation, kind: str, title: str, link: str = "", doi: str = "",
                  today: datetime.date | None = None) -> Output:
    """Record an output of the allocation (from its start date on, also after the final report). A
    publication needs a DOI (its link defaults to the DOI's address); every output has an https link."""
    today = today or timezone.localdate()
    if not may_file(actor, allocation):
        raise PermissionDenied(_("Only members of the organisation can record its outputs."))
    if not _has_started(allocation, today):
        raise ValidationError(_("Outputs can be recorded once the allocation has started."))
    errors: dict[str, Any] = {}
    if kind not in OutputKind.values:
        errors["kind"] = _("Choose the kind of output.")
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the output's title.")
    elif len(title) > 300:
        errors["title"] = _("At most %(n)s characters.") % {"n": 300}
    doi = (doi or "").strip()
    if doi or kind == OutputKind.PUBLICATION:
        try:
            doi = normalise_doi(doi)
        except ValidationError as exc:
            errors["doi"] = exc.messages[0]
    link = (link or "").strip()
    if not link and kind == OutputKind.PUBLICATION:
        # The DOI's address; with a wrong DOI only the DOI is to correct.
        link = "" if "doi" in errors else doi_url(doi)
    elif not link:
        errors["link"] = _("Give the address where the output can be found (https://...).")
    if link:
        try:
            https_validator(link)
            if len(link) > 500:
                raise ValidationError(_("At most %(n)s characters.") % {"n": 500})
        except ValidationError as exc:
            errors["link"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Serialise the outputs of one allocation, so that the same DOI is never recorded twice.
        Allocation.objects.select_for_update().filter(pk=allocation.pk).first()
        if doi and Output.objects.filter(allocation=allocation, doi__iexact=doi).exists():
            raise ValidationError({"doi": _("This DOI is already recorded for this allocation.")})
        output = Output.objects.create(allocation=allocation, kind=kind, title=title, link=link, doi=doi,
                                       recorded_by=actor)
        audit_record(actor=actor, action=AuditAction.OUTPUT_RECORDED, target=allocation,
                     changes={"output_id": output.pk, "kind": kind, "doi": doi})
    return output


def output_remove(*, actor, output: Output) -> None:
    """A member takes back an output recorded by mistake; the audit trail keeps that it was there."""
    if not may_file(actor, output.allocation):
        raise PermissionDenied(_("Only members of the organisation can remove its outputs."))
    with transaction.atomic():
        row = Output.objects.select_for_update().filter(pk=output.pk).first()
        if row is None:
            return
        audit_record(actor=actor, action=AuditAction.OUTPUT_REMOVED, target=output.allocation,
                     changes={"output_id": row.pk, "kind": row.kind, "doi": row.doi})
        row.delete()


# --- reminders ------------------------------------------------------------------------------------


def _reminder_kind(report: FinalReport, today: datetime.date) -> str | None:
    if report.due_date == today or (report.due_date < today <= report.due_date + datetime.timedelta(days=2)):
        # On the due date; a run missed that day sends it within two days, never for an old report.
        return ReminderKind.DUE_DATE
    if report.due_date - datetime.timedelta(days=reminder_days()) <= today < report.due_date:
        return ReminderKind.BEFORE
    return None


def final_report_remind(*, report_id: int, today: datetime.date) -> str | None:
    """Send the reminder due today about one report, once per kind and due date; returns its kind."""
    with transaction.atomic():
        report = (FinalReport.objects.select_for_update(of=("self",))
                  .select_related("allocation__organisation").filter(pk=report_id).first())
        if report is None or not report.is_open:
            return None
        kind = _reminder_kind(report, today)
        if kind is None or FinalReportReminder.objects.filter(report=report, kind=kind,
                                                              due_date=report.due_date).exists():
            return None
        FinalReportReminder.objects.create(report=report, kind=kind, due_date=report.due_date)
        notify(recipients=_members(report.allocation.organisation_id),
               kind=(NotificationKind.FINAL_REPORT_DUE_TODAY if kind == ReminderKind.DUE_DATE
                     else NotificationKind.FINAL_REPORT_DUE_SOON),
               params=_params(report), link=report.get_absolute_url())
    return kind


def final_report_reminders_send(*, today: datetime.date | None = None) -> dict[str, int]:
    """Beat: open the reports owed, then remind the organisations N days before each due date and on it
    (each once: FinalReportReminder). Mails follow each person's choice (at once or the daily digest)."""
    today = today or timezone.localdate()
    opened = final_reports_open_sweep(today=today)
    window = (FinalReport.objects.filter(status__in=OPEN_STATUSES,
                                         due_date__gte=today - datetime.timedelta(days=2),
                                         due_date__lte=today + datetime.timedelta(days=reminder_days()))
              .values_list("pk", flat=True))
    sent = {"opened": opened, ReminderKind.BEFORE.value: 0, ReminderKind.DUE_DATE.value: 0}
    for pk in list(window):
        try:
            kind = final_report_remind(report_id=pk, today=today)
        except Exception:  # one bad row must not stop the others; the next run retries it
            logger.exception("final report reminder failed for report %s", pk)
            continue
        if kind:
            sent[kind] += 1
    return sent


# --- the submission block -------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueReport:
    reference: str
    due_date: datetime.date


def overdue_blocking_reports(organisation_id: int, today: datetime.date) -> list[OverdueReport]:
    """The organisation's final reports that are overdue under an access mode whose overdue reports block
    new submissions. Counts reports the sweep has not opened yet (one query)."""
    allocations = (Allocation.objects.filter(organisation_id=organisation_id, start_date__lte=today,
                                             application__access_mode__final_report_days__gt=0,
                                             application__access_mode__final_report_blocks_submission=True)
                   .exclude(status__in=NOT_STARTED)
                   .select_related("application__access_mode", "final_report").order_by("end_date", "pk"))
    overdue = []
    for allocation in allocations:
        report = getattr(allocation, "final_report", None)
        if report is not None:
            if report.is_overdue_on(today):
                overdue.append(OverdueReport(allocation.reference, report.due_date))
        else:
            due = final_report_due_date(allocation)
            if due is not None and due < today:
                overdue.append(OverdueReport(allocation.reference, due))
    return overdue


def submission_allowed(*, actor, application, today: datetime.date | None = None) -> None:
    """Called by application_submit inside its transaction: refuse the submission while a blocking final
    report is overdue, unless a manager's override is waiting (it is then used up, and audited)."""
    today = today or timezone.localdate()
    overdue = overdue_blocking_reports(application.organisation_id, today)
    if not overdue:
        return
    override = (SubmissionOverride.objects.select_for_update()
                .filter(organisation_id=application.organisation_id, used_at=None).order_by("granted_at", "pk")
                .first())
    if override is None:
        listed = ", ".join(_("%(reference)s (due %(date)s)") % {
            "reference": o.reference, "date": date_format(o.due_date, "j F Y")} for o in overdue)
        raise ValidationError(_(
            "Your organisation cannot submit a new application while a final report is overdue: %(reports)s. "
            "File the report from the allocation's page, or ask the access committee for an exception.")
            % {"reports": listed})
    override.used_at = timezone.now()
    override.used_for = application
    override.save(update_fields=["used_at", "used_for"])
    audit_record(actor=actor, action=AuditAction.SUBMISSION_OVERRIDE_USED, target=application,
                 changes={"override_id": override.pk, "overdue": [o.reference for o in overdue]})


def submission_override_grant(*, actor, organisation: Organisation, reason: str) -> SubmissionOverride:
    """An allocation manager lets the organisation submit one application despite an overdue final report."""
    if not can_manage(actor):
        raise PermissionDenied(_("Only allocation managers can grant an exception."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the exception.")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": "2,000"}})
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if SubmissionOverride.objects.filter(organisation=organisation, used_at=None).exists():
            raise ValidationError({"reason": _("An exception for this organisation is already waiting to be used.")})
        override = SubmissionOverride.objects.create(organisation=organisation, reason=reason, granted_by=actor)
        audit_record(actor=actor, action=AuditAction.SUBMISSION_OVERRIDE_GRANTED, target=organisation,
                     changes={"override_id": override.pk, "reason": reason[:1000]})
    return override
