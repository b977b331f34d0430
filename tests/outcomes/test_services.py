"""Final reports: due dates, the workflow's moves with their permissions, DOIs, outputs, reminders, and
the submission block with its override."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Notification, NotificationDelivery, NotificationKind, NotificationPreference
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import ApplicationStatus, SubmissionDeclaration
from allocations.applications.services import application_submit
from allocations.catalogue.models import AccessMode
from allocations.grants.models import AllocationStatus
from allocations.outcomes import services
from allocations.outcomes.doi import normalise_doi
from allocations.outcomes.models import (
    FinalReport,
    FinalReportReminder,
    FinalReportStatus,
    Output,
    OutputKind,
    SubmissionOverride,
)
from allocations.outcomes.services import ReportTexts
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

FULL = ReportTexts(results="A model for Dutch speech.", lessons="Profile before scaling.",
                   compute_use="Three fine-tuning runs on 64 GPUs.", ai_act_still_holds=True)


def _member_of(alloc):
    return alloc.application.created_by


def _freeze(monkeypatch, day: datetime.date) -> None:
    """The clock of the portal stands still on `day` (timezone.localdate without an argument)."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


# --- due dates ------------------------------------------------------------------------------------


def test_due_date_is_the_end_date_plus_the_modes_days():
    alloc = f.ended_allocation(ended_days_ago=3)
    AccessMode.objects.filter(code="fast_lane").update(final_report_days=45)
    alloc.application.access_mode.refresh_from_db()
    assert services.final_report_due_date(alloc) == alloc.end_date + datetime.timedelta(days=45)
    report = services.final_report_open(allocation=alloc)
    assert report.status == FinalReportStatus.DUE
    assert report.due_date == alloc.end_date + datetime.timedelta(days=45)
    assert report.sections == ["results", "lessons", "compute_use", "ai_act"]


@pytest.mark.parametrize("days", [0, None])
def test_a_mode_without_days_asks_no_report(days):
    AccessMode.objects.filter(code="playground").update(final_report_days=days)
    alloc = f.ended_allocation(access_mode="playground")
    assert services.final_report_due_date(alloc) is None
    assert services.final_report_open(allocation=alloc) is None
    assert services.final_reports_open_sweep() == 0
    assert not FinalReport.objects.exists()


def test_an_allocation_not_started_owes_nothing_yet():
    alloc = f.ended_allocation(ended_days_ago=-60, status=AllocationStatus.APPROVED)
    assert services.final_report_open(allocation=alloc) is None


def test_sweep_opens_once_and_follows_an_extension():
    alloc = f.ended_allocation(ended_days_ago=-10, status=AllocationStatus.ACTIVE)
    assert services.final_reports_open_sweep() == 1
    assert services.final_reports_open_sweep() == 0
    report = FinalReport.objects.get(allocation=alloc)
    assert report.due_date == alloc.end_date + datetime.timedelta(days=30)
    # An approved extension moves the end date: the due date of the unsubmitted report follows.
    alloc.end_date += datetime.timedelta(days=20)
    alloc.save(update_fields=["end_date"])
    assert services.final_reports_open_sweep() == 0
    report.refresh_from_db()
    assert report.due_date == alloc.end_date + datetime.timedelta(days=30)


# --- the workflow ---------------------------------------------------------------------------------


def test_member_saves_then_submits_and_the_managers_are_told(run_on_commit):
    manager = f.manager()
    report = f.final_report()
    member = _member_of(report.allocation)
    saved = services.final_report_save(actor=member, report=report, texts=ReportTexts(results="So far"))
    assert saved.status == FinalReportStatus.DRAFT and saved.results == "So far"
    with run_on_commit():
        done = services.final_report_submit(actor=member, report=report, texts=FULL)
    assert done.status == FinalReportStatus.SUBMITTED and done.submitted_by == member
    assert done.submitted_at is not None
    note = Notification.objects.get(recipient=manager)
    assert note.kind == NotificationKind.FINAL_REPORT_SUBMITTED
    assert report.allocation.reference in note.text
    actions = list(AuditEvent.objects.filter(object_id=str(report.pk)).values_list("action", flat=True))
    assert actions.count("final_report.saved") == 2 and "final_report.status_changed" in actions


@pytest.mark.parametrize(("texts", "field"), [
    (ReportTexts(lessons="l", compute_use="c", ai_act_still_holds=True), "results"),
    (ReportTexts(results="r", compute_use="c", ai_act_still_holds=True), "lessons"),
    (ReportTexts(results="r", lessons="l", ai_act_still_holds=True), "compute_use"),
    (ReportTexts(results="r", lessons="l", compute_use="c"), "ai_act_still_holds"),
    (ReportTexts(results="r", lessons="l", compute_use="c", ai_act_still_holds=False), "ai_act_explanation"),
])
def test_submit_refuses_a_missing_part_and_saves_nothing(texts, field):
    report = f.final_report()
    with pytest.raises(ValidationError) as exc:
        services.final_report_submit(actor=_member_of(report.allocation), report=report, texts=texts)
    assert field in exc.value.message_dict
    report.refresh_from_db()
    assert report.status == FinalReportStatus.DUE and report.results == "" and report.lessons == ""


def test_a_mode_asking_fewer_sections_needs_only_those():
    report = f.final_report()
    FinalReport.objects.filter(pk=report.pk).update(sections=["results"])
    report.refresh_from_db()
    done = services.final_report_submit(actor=_member_of(report.allocation), report=report,
                                        texts=ReportTexts(results="Done", lessons="ignored"))
    assert done.status == FinalReportStatus.SUBMITTED and done.lessons == ""


def test_submit_waits_for_the_end_date():
    alloc = f.ended_allocation(ended_days_ago=-5, status=AllocationStatus.ACTIVE)
    report = services.final_report_open(allocation=alloc)
    with pytest.raises(ValidationError, match="end date"):
        services.final_report_submit(actor=_member_of(alloc), report=report, texts=FULL)
    # A draft may be written before.
    assert services.final_report_save(actor=_member_of(alloc), report=report, texts=FULL).status == "draft"


def test_only_members_file_and_only_managers_review(other_org_user):
    report = f.final_report()
    with pytest.raises(PermissionDenied):
        services.final_report_save(actor=other_org_user, report=report, texts=FULL)
    with pytest.raises(PermissionDenied):
        services.final_report_submit(actor=f.manager(), report=report, texts=FULL)
    submitted = f.final_report(status=FinalReportStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.final_report_review(actor=_member_of(submitted.allocation), report=submitted, accept=True)
    # A manager without the second factor in this sign-in holds no role.
    with pytest.raises(PermissionDenied):
        services.final_report_review(actor=f.manager(totp=False), report=submitted, accept=True)
    assert FinalReport.objects.get(pk=submitted.pk).status == FinalReportStatus.SUBMITTED


def test_a_submitted_report_is_read_only():
    report = f.final_report(status=FinalReportStatus.SUBMITTED)
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.final_report_save(actor=_member_of(report.allocation), report=report, texts=FULL)


def test_manager_asks_for_more_with_a_comment_then_accepts(run_on_commit):
    today = timezone.localdate()
    report = f.final_report(status=FinalReportStatus.SUBMITTED, due=today - datetime.timedelta(days=1))
    member = _member_of(report.allocation)
    manager = f.manager()
    with pytest.raises(ValidationError) as exc:
        services.final_report_review(actor=manager, report=report, accept=False, comment="  ")
    assert "comment" in exc.value.message_dict
    with run_on_commit():
        back = services.final_report_review(actor=manager, report=report, accept=False,
                                            comment="Add the share of the quota used.")
    assert back.status == FinalReportStatus.MORE_ASKED
    # A new due date: two weeks from today (AIF_FINAL_REPORT_RESUBMIT_DAYS), so it is not overdue at once.
    assert back.due_date == today + datetime.timedelta(days=14)
    note = Notification.objects.get(recipient=member)
    assert note.kind == NotificationKind.FINAL_REPORT_MORE_ASKED and "share of the quota" in note.text
    again = services.final_report_submit(actor=member, report=back, texts=FULL)
    assert again.status == FinalReportStatus.SUBMITTED
    accepted = services.final_report_review(actor=manager, report=again, accept=True)
    assert accepted.status == FinalReportStatus.ACCEPTED and accepted.reviewed_by == manager
    with pytest.raises(ValidationError):
        services.final_report_review(actor=manager, report=accepted, accept=False, comment="Too late")


# --- DOIs and outputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "stored"), [
    ("10.1000/182", "10.1000/182"),
    ("  10.1038/nphys1170 ", "10.1038/nphys1170"),
    ("https://doi.org/10.1145/3580305.3599256", "10.1145/3580305.3599256"),
    ("http://dx.doi.org/10.1000/182", "10.1000/182"),
    ("doi:10.48550/arXiv.2401.00001", "10.48550/arXiv.2401.00001"),
    ("DOI:10.1000/182", "10.1000/182"),
    ("https://doi.org/10.1002/(SICI)1097-4571%28199806%2949", "10.1002/(SICI)1097-4571(199806)49"),
    ("10.1000.10/abc", "10.1000.10/abc"),
])
def test_doi_accepted_and_normalised(given, stored):
    assert normalise_doi(given) == stored


@pytest.mark.parametrize("given", ["", "   ", "10.123/abc", "10.1234/", "10.1234", "11.1234/abc",
                                   "10.1234/with space", "https://doi.org/", "https://example.org/10.1234/x",
                                   "10.abcd/x", "10.1234/" + "x" * 300, "10.1234/tab\there"])
def test_doi_refused(given):
    with pytest.raises(ValidationError):
        normalise_doi(given)


def test_publication_needs_a_doi_and_gets_its_link():
    alloc = f.ended_allocation()
    member = _member_of(alloc)
    with pytest.raises(ValidationError) as exc:
        services.output_record(actor=member, allocation=alloc, kind=OutputKind.PUBLICATION, title="Paper")
    assert "doi" in exc.value.message_dict
    paper = services.output_record(actor=member, allocation=alloc, kind=OutputKind.PUBLICATION, title="Paper",
                                   doi="https://doi.org/10.5555/AIF.42")
    assert paper.doi == "10.5555/AIF.42" and paper.link == "https://doi.org/10.5555/AIF.42"
    with pytest.raises(ValidationError) as exc:
        services.output_record(actor=member, allocation=alloc, kind=OutputKind.PUBLICATION, title="Again",
                               doi="10.5555/aif.42")
    assert "doi" in exc.value.message_dict
    assert AuditEvent.objects.filter(action="output.recorded").count() == 1


@pytest.mark.parametrize(("kind", "link", "field"), [
    (OutputKind.MODEL, "", "link"),
    (OutputKind.MODEL, "http://huggingface.co/x", "link"),
    (OutputKind.DATASET, "javascript:alert(1)", "link"),
    ("weights", "https://example.org/", "kind"),
])
def test_output_refused_with_the_field_named(kind, link, field):
    alloc = f.ended_allocation()
    with pytest.raises(ValidationError) as exc:
        services.output_record(actor=_member_of(alloc), allocation=alloc, kind=kind, title="T", link=link)
    assert field in exc.value.message_dict
    assert not Output.objects.exists()


def test_outputs_are_recorded_from_the_start_and_by_members_only(other_org_user):
    running = f.ended_allocation(ended_days_ago=-30, status=AllocationStatus.ACTIVE)
    model = services.output_record(actor=_member_of(running), allocation=running, kind=OutputKind.MODEL,
                                   title="Checkpoint", link="https://huggingface.co/demo/ckpt")
    assert model.pk and model.doi == ""
    with pytest.raises(PermissionDenied):
        services.output_record(actor=other_org_user, allocation=running, kind=OutputKind.MODEL, title="X",
                               link="https://example.org/")
    not_started = f.ended_allocation(ended_days_ago=-60, status=AllocationStatus.APPROVED)
    not_started.start_date = timezone.localdate() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError, match="started"):
        services.output_record(actor=_member_of(not_started), allocation=not_started, kind=OutputKind.MODEL,
                               title="X", link="https://example.org/")
    services.output_remove(actor=_member_of(running), output=model)
    assert not Output.objects.exists()
    assert AuditEvent.objects.filter(action="output.removed").count() == 1


# --- reminders ------------------------------------------------------------------------------------


def _report_due(on: datetime.date):
    alloc = f.ended_allocation(ended_days_ago=(timezone.localdate() - on).days + 30)
    return services.final_report_open(allocation=alloc)


def test_reminders_before_and_on_the_due_date_once_each(monkeypatch, run_on_commit):
    start = timezone.localdate()
    report = _report_due(start + datetime.timedelta(days=14))
    member = _member_of(report.allocation)
    colleague = f.applicant(report.allocation.organisation)
    NotificationPreference.objects.create(user=colleague, delivery=NotificationDelivery.DAILY_DIGEST)
    mail.outbox.clear()

    def run(day):
        _freeze(monkeypatch, day)
        with run_on_commit():
            return services.final_report_reminders_send()

    assert run(start - datetime.timedelta(days=1))["before"] == 0  # 15 days before: nothing yet
    assert run(start)["before"] == 1
    assert run(start)["before"] == 0  # the same day again: nothing
    assert run(start + datetime.timedelta(days=5))["before"] == 0  # still before: already reminded
    assert run(start + datetime.timedelta(days=14))["due_date"] == 1
    assert run(start + datetime.timedelta(days=14))["due_date"] == 0
    assert run(start + datetime.timedelta(days=15))["due_date"] == 0
    kinds = list(Notification.objects.filter(recipient=member).order_by("pk").values_list("kind", flat=True))
    assert kinds == [NotificationKind.FINAL_REPORT_DUE_SOON, NotificationKind.FINAL_REPORT_DUE_TODAY]
    # Mailed at once to the member who wants every notification; kept for the digest of the colleague.
    assert len([m for m in mail.outbox if m.to == [member.email]]) == 2
    assert not [m for m in mail.outbox if m.to == [colleague.email]]
    assert Notification.objects.filter(recipient=colleague, mailed_at=None).count() == 2
    assert FinalReportReminder.objects.filter(report=report).count() == 2


def test_no_reminder_for_a_submitted_report(monkeypatch):
    report = _report_due(timezone.localdate())
    services.final_report_submit(actor=_member_of(report.allocation), report=report, texts=FULL)
    _freeze(monkeypatch, report.due_date)
    assert services.final_report_reminders_send()["due_date"] == 0
    assert not Notification.objects.filter(kind=NotificationKind.FINAL_REPORT_DUE_TODAY).exists()


def test_more_asked_gets_reminders_for_its_new_due_date(monkeypatch):
    today = timezone.localdate()
    report = f.final_report(status=FinalReportStatus.SUBMITTED, due=today)
    FinalReportReminder.objects.create(report=report, kind="due_date", due_date=today)
    back = services.final_report_review(actor=f.manager(), report=report, accept=False, comment="More")
    _freeze(monkeypatch, back.due_date)
    assert services.final_report_reminders_send()["due_date"] == 1


def test_an_old_overdue_report_is_not_told_it_is_due_today():
    report = _report_due(timezone.localdate() - datetime.timedelta(days=20))
    assert services.final_report_reminders_send() == {"opened": 0, "before": 0, "due_date": 0}
    assert report.is_overdue_on(timezone.localdate())


# --- the submission block -------------------------------------------------------------------------


def _new_application(organisation):
    member = f.applicant(organisation)
    return member, f.complete(member, organisation)


def test_an_overdue_report_blocks_the_next_submission(capacity):
    old = f.ended_allocation(ended_days_ago=40)  # due 10 days ago, never opened by the sweep
    member, app = _new_application(old.organisation)
    with pytest.raises(ValidationError) as exc:
        application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert old.reference in exc.value.messages[0] and "overdue" in exc.value.messages[0]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT
    assert not SubmissionDeclaration.objects.filter(application=app).exists()
    assert not AuditEvent.objects.filter(action="application.declaration_made").exists()


def test_a_submitted_report_lifts_the_block(capacity):
    old = f.ended_allocation(ended_days_ago=40)
    report = services.final_report_open(allocation=old)
    services.final_report_submit(actor=_member_of(old), report=report, texts=FULL)
    member, app = _new_application(old.organisation)
    assert application_submit(actor=member, application=app,
                              declaration_version=DECLARATION_VERSION).status == ApplicationStatus.SUBMITTED


def test_a_mode_that_does_not_block_lets_the_organisation_submit(capacity):
    old = f.ended_allocation(ended_days_ago=40, access_mode="playground")  # blocks: no (migration)
    member, app = _new_application(old.organisation)
    assert application_submit(actor=member, application=app,
                              declaration_version=DECLARATION_VERSION).status == ApplicationStatus.SUBMITTED


def test_not_yet_due_does_not_block(capacity):
    recent = f.ended_allocation(ended_days_ago=10)  # due in 20 days
    member, app = _new_application(recent.organisation)
    assert application_submit(actor=member, application=app,
                              declaration_version=DECLARATION_VERSION).status == ApplicationStatus.SUBMITTED


def test_override_lets_one_submission_through_and_is_audited(capacity):
    old = f.ended_allocation(ended_days_ago=40)
    manager = f.manager()
    with pytest.raises(ValidationError) as exc:
        services.submission_override_grant(actor=manager, organisation=old.organisation, reason=" ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.submission_override_grant(actor=_member_of(old), organisation=old.organisation, reason="Please")
    override = services.submission_override_grant(actor=manager, organisation=old.organisation,
                                                   reason="Report promised by phone for Friday")
    with pytest.raises(ValidationError):
        services.submission_override_grant(actor=manager, organisation=old.organisation, reason="Twice")
    granted = AuditEvent.objects.get(action="submission_override.granted")
    assert granted.actor_id == manager.pk and "phone" in granted.changes["reason"]
    member, first = _new_application(old.organisation)
    assert application_submit(actor=member, application=first,
                              declaration_version=DECLARATION_VERSION).status == ApplicationStatus.SUBMITTED
    override.refresh_from_db()
    assert override.used_for_id == first.pk and override.used_at is not None
    used = AuditEvent.objects.get(action="submission_override.used")
    assert used.changes["overdue"] == [old.reference]
    # Used up: the next submission is blocked again.
    _member, second = _new_application(old.organisation)
    with pytest.raises(ValidationError):
        application_submit(actor=member, application=second, declaration_version=DECLARATION_VERSION)
    assert SubmissionOverride.objects.filter(used_at=None).count() == 0
