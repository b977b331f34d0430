"""Submission rules, withdrawal, read-only after submission and references, through the services."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import OrganisationType
from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus
from allocations.applications.services import application_transition
from allocations.catalogue.models import AccessMode, SiteCapacity, quarter_label, quarter_start, spread_pro_rata
from compliance.ai_act import engine
from compliance.models import RiskAssessment
from compliance.services import assessment_save
from portal.models import AuditEvent
from portal.workflow import TransitionError
from tests import factories as f
from tests.factories import AllocationManagerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def problems(app):
    return [p.message for p in services.validate_for_submission(Application.objects.get(pk=app.pk))]


def assert_refused(actor, app, message):
    """The rule shows in validation, submission refuses with it, and nothing changes."""
    assert message in problems(app), problems(app)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.application_submit(actor=actor, application=app, declaration_version=DECLARATION_VERSION)
    assert message in exc.value.messages
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT
    assert app.submitted_at is None
    assert AuditEvent.objects.count() == events


def test_complete_application_has_no_problem_and_submits(member, organisation, capacity):
    app = f.complete(member, organisation)
    assert problems(app) == []
    app = services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert app.status == ApplicationStatus.SUBMITTED
    assert app.submitted_at is not None
    assert app.decision_due > timezone.localdate()
    assert AuditEvent.objects.filter(action="application.status_changed", object_id=str(app.pk)).exists()


def test_blank_draft_lists_every_missing_part_by_step(member, organisation):
    app = f.draft(member, organisation)
    steps = {p.step for p in services.validate_for_submission(app)}
    # Attachments too: which documents are needed depends on the access mode, not chosen yet.
    assert steps == {"project", "resources", "model", "ai_act", "team", "ethics", "attachments"}
    with pytest.raises(ValidationError) as exc:
        services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert len(exc.value.messages) == len(problems(app)) > 10


# --- 1. project --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, message", [
    ("abstract", "", "Give the abstract."),
    ("public_summary", "", "Give the public summary."),
    ("sector", "", "Give the sector."),
    ("rd_type", "", "Give the type of R&D."),
    ("civilian_purpose", None, "Declare whether the project has an exclusively civilian purpose."),
    ("dual_use", None, "Declare whether the results could have dual use."),
])
def test_project_fields_are_required_for_submission(member, organisation, capacity, field, value, message):
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="project", data={field: value})
    assert_refused(member, app, message)


def test_dual_use_needs_an_explanation(member, organisation, capacity):
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="project", data={"dual_use": True})
    assert_refused(member, app, "Explain the possible dual use.")


def test_route_to_market_and_open_weights_are_asked_once_in_the_ai_act_questionnaire(member, organisation, capacity):
    """Steps 1 and 3 no longer ask them: the questionnaire does (route_to_market, open_weights)."""
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="project",
                                     data={"rd_type": "product", "route_to_market": "Sold to hospitals."})
    services.application_update_step(actor=member, application=app, step="model", data={"open_weights": False})
    app.refresh_from_db()
    assert (app.rd_type, app.route_to_market, app.open_weights) == ("product", "", None)
    assert problems(app) == []
    ruleset = engine.load_ruleset(engine.DEFAULT_RULESET)
    assert {"route_to_market", "open_weights"} <= {q.id for q in ruleset.questions}


def test_a_draft_can_be_saved_with_unanswered_declarations(member, organisation):
    app = f.draft(member, organisation)
    app = services.application_update_step(actor=member, application=app, step="project",
                                           data={"abstract": "Only this for now.", "civilian_purpose": None})
    app.refresh_from_db()
    assert app.abstract == "Only this for now." and app.civilian_purpose is None


def test_blank_title_is_refused_when_saving(member, organisation):
    app = f.draft(member, organisation)
    with pytest.raises(ValidationError) as exc:
        services.application_update_step(actor=member, application=app, step="project", data={"title": ""})
    assert "title" in exc.value.message_dict


# --- 2. resources ------------------------------------------------------------------------------------------


def test_fast_lane_gpu_cap(member, organisation, capacity):
    app = f.complete(member, organisation, access_mode="fast_lane", gpu_hours=60_000)
    assert_refused(member, app, "Fast Lane allows at most 50,000 GPU-hours; you asked for 60,000.")


def test_playground_gpu_cap(member, organisation, capacity):
    app = f.complete(member, organisation, access_mode="playground", gpu_hours=2_001)
    assert_refused(member, app, "Playground allows at most 2,000 GPU-hours; you asked for 2,001.")


def test_cpu_and_storage_caps(member, organisation, capacity):
    app = f.complete(member, organisation, access_mode="playground", gpu_hours=100)
    services.application_set_resources(actor=member, application=app, rows=[
        {"site": f.site("zellik"), "gpu_hours": 100, "cpu_core_hours": 20_001, "storage_tb": Decimal("5.5")}])
    assert "Playground allows at most 20,000 CPU core-hours." in problems(app)
    assert_refused(member, app, "Playground allows at most 5.00 TB of storage.")


def test_caps_count_the_total_over_both_sites(member, organisation, capacity):
    app = f.complete(member, organisation, access_mode="fast_lane", gpu_hours=30_000)
    services.application_set_resources(actor=member, application=app, rows=[
        {"site": f.site("zellik"), "gpu_hours": 30_000}, {"site": f.site("charleroi"), "gpu_hours": 30_000}])
    assert_refused(member, app, "Fast Lane allows at most 50,000 GPU-hours; you asked for 60,000.")


def test_large_scale_minimum(member, organisation, capacity):
    call = f.open_call()
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=40_000, call=call, duration=3,
                     attachment=True)
    assert_refused(member, app, "Large Scale is for more than 50,000 GPU-hours; you asked for 40,000.")


def test_large_scale_exactly_at_the_floor_is_refused(member, organisation, capacity):
    call = f.open_call()
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=50_000, call=call, duration=3,
                     attachment=True)
    assert_refused(member, app, "Large Scale is for more than 50,000 GPU-hours; you asked for 50,000.")


def test_large_scale_complete_submits(member, organisation, capacity):
    call = f.open_call()
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=120_000, call=call, duration=6,
                     attachment=True)
    assert problems(app) == []
    app = services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    # Large Scale decisions are due 10 working days after the call's cut-off, not after submission.
    assert app.decision_due > timezone.localdate(call.cutoff_at)


@pytest.mark.parametrize("mode, duration, allowed", [
    ("fast_lane", 6, "1, 2, 3"), ("playground", 12, "1, 2, 3"), ("large_scale", 2, "3, 6, 12")])
def test_allowed_durations(member, organisation, capacity, mode, duration, allowed):
    the_mode = AccessMode.objects.get(code=mode)
    gpu = 100_000 if mode == "large_scale" else 1_000
    app = f.complete(member, organisation, access_mode=mode, gpu_hours=gpu, duration=duration,
                     call=f.open_call() if mode == "large_scale" else None, attachment=True)
    assert_refused(member, app, f"{the_mode.name} allows durations of {allowed} months.")


def test_duration_is_required(member, organisation, capacity):
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="resources",
                                     data={"duration_months": None})
    assert_refused(member, app, "Choose a duration.")


def test_organisation_type_eligibility(member, organisation, capacity):
    organisation.org_type = OrganisationType.LARGE_ENTERPRISE
    organisation.save()
    app = f.complete(member, organisation, access_mode="fast_lane")
    assert_refused(member, app, f"{organisation.legal_name} (Large enterprise) is not eligible for Fast Lane.")


def test_sme_class_eligibility(member, organisation, capacity):
    AccessMode.objects.filter(code="fast_lane").update(eligible_sme_classes=["medium"])
    app = f.complete(member, organisation, access_mode="fast_lane")
    assert_refused(member, app, "Fast Lane is open to these SME classes only: Medium-sized enterprise.")


def test_site_not_offering_a_resource(member, organisation, capacity):
    zellik = f.site("zellik")
    zellik.offers_storage = False
    zellik.save()
    app = f.complete(member, organisation)  # asks for 1 TB on Zellik
    assert_refused(member, app, "Zellik does not offer storage.")


def test_inactive_site(member, organisation, capacity):
    app = f.complete(member, organisation)
    zellik = f.site("zellik")
    zellik.is_active = False
    zellik.save()
    assert_refused(member, app, "Zellik does not take applications at the moment.")


def _spanning_start():
    """A start date soon from which three months span two quarters."""
    start = f.start_soon()
    return start + datetime.timedelta(days=1) if start == quarter_start(start) else start


def _shares(app, hours):
    """The pro-rata share of ``hours`` per quarter of the application's span, as approvals reserve them."""
    return dict(spread_pro_rata(hours, app.start_date, services.application_end_date(app)))


def test_above_remaining_site_capacity(member, organisation, capacity):
    app = f.complete(member, organisation, gpu_hours=10_000)
    period = quarter_start(app.start_date)
    SiteCapacity.objects.filter(site__code="zellik", period_start=period).update(
        gpu_hours=100_000, committed_gpu_hours=99_000)
    need = _shares(app, 10_000)[period]
    assert need > 1_000
    assert_refused(member, app, f"Zellik has 1,000 GPU-hours left in {quarter_label(period)}; your request needs "
                                f"{need:,} of them in that quarter.")


def test_cpu_above_remaining_site_capacity(member, organisation, capacity):
    app = f.complete(member, organisation)
    period = quarter_start(app.start_date)
    need = _shares(app, app.resources.get().cpu_core_hours)[period]
    SiteCapacity.objects.filter(site__code="zellik", period_start=period).update(
        cpu_core_hours=need - 1, committed_cpu_core_hours=0)
    assert_refused(member, app, f"Zellik has {need - 1:,} CPU core-hours left in {quarter_label(period)}; your "
                                f"request needs {need:,} of them in that quarter.")


def test_every_quarter_the_allocation_would_span_is_checked(member, organisation, capacity):
    """The start quarter has room; the last quarter of the span is full: the request does not fit."""
    app = f.complete(member, organisation, gpu_hours=10_000, duration=3, start=_spanning_start())
    shares = _shares(app, 10_000)
    assert len(shares) >= 2
    first, last = min(shares), max(shares)
    SiteCapacity.objects.filter(site__code="zellik", period_start=last).update(
        gpu_hours=100_000, committed_gpu_hours=100_000 - shares[last] + 1)
    assert SiteCapacity.objects.get(site__code="zellik", period_start=first).remaining_gpu_hours >= shares[first]
    assert_refused(member, app, f"Zellik has {shares[last] - 1:,} GPU-hours left in {quarter_label(last)}; your "
                                f"request needs {shares[last]:,} of them in that quarter.")
    # Exactly its share fits: the applicant's check and the approval count the same figures.
    SiteCapacity.objects.filter(site__code="zellik", period_start=last).update(
        committed_gpu_hours=100_000 - shares[last])
    assert not [p for p in problems(app) if "GPU-hours left" in p]


def test_no_capacity_published_for_the_quarter(member, organisation):
    app = f.complete(member, organisation)
    period = quarter_start(app.start_date)
    assert_refused(member, app, f"Zellik has no capacity published for {quarter_label(period)}, which your "
                                f"allocation would span.")


def test_no_capacity_published_for_a_later_quarter(member, organisation, capacity):
    app = f.complete(member, organisation, duration=3, start=_spanning_start())
    last = max(_shares(app, 1))
    SiteCapacity.objects.filter(site__code="zellik", period_start=last).delete()
    assert_refused(member, app, f"Zellik has no capacity published for {quarter_label(last)}, which your "
                                f"allocation would span.")


def test_start_date_in_the_past(member, organisation, capacity):
    app = f.complete(member, organisation, start=timezone.localdate() - datetime.timedelta(days=1))
    assert_refused(member, app, "The start date is in the past.")


def test_start_date_today_is_fine(member, organisation, capacity):
    app = f.complete(member, organisation, start=timezone.localdate())
    assert problems(app) == []


def test_no_resources_requested(member, organisation, capacity):
    app = f.complete(member, organisation)
    services.application_set_resources(actor=member, application=app, rows=[])
    assert_refused(member, app, "Request resources on at least one site.")


def test_no_access_mode(member, organisation, capacity):
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="resources", data={"access_mode": None})
    assert_refused(member, app, "Choose an access mode.")


def test_call_required_for_large_scale(member, organisation, capacity):
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=100_000, duration=3, attachment=True)
    assert_refused(member, app, "Large Scale applications are made to a call: choose one.")


def test_call_closed(member, organisation, capacity):
    now = timezone.now()
    call = f.open_call(title="Spring cut-off", opens_at=now - datetime.timedelta(days=30),
                       cutoff_at=now - datetime.timedelta(days=1))
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=100_000, call=call, duration=3,
                     attachment=True)
    assert_refused(member, app, "The call Spring cut-off is not open.")


def test_call_not_yet_open(member, organisation, capacity):
    now = timezone.now()
    call = f.open_call(title="Autumn cut-off", opens_at=now + datetime.timedelta(days=3),
                       cutoff_at=now + datetime.timedelta(days=30))
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=100_000, call=call, duration=3,
                     attachment=True)
    assert_refused(member, app, "The call Autumn cut-off is not open.")


def test_call_of_another_mode_does_not_count(member, organisation, capacity):
    call = f.open_call(access_mode=f.mode("fast_lane"))
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=100_000, call=call, duration=3,
                     attachment=True)
    assert_refused(member, app, "Large Scale applications are made to a call: choose one.")


def test_large_scale_needs_a_project_plan(member, organisation, capacity):
    app = f.complete(member, organisation, access_mode="large_scale", gpu_hours=100_000, call=f.open_call(),
                     duration=3)
    assert_refused(member, app, "Attach the project plan (PDF).")


def test_resources_step_saves_everything_or_nothing(member, organisation, capacity, monkeypatch):
    app = f.complete(member, organisation)

    def failing_rows(**kwargs):
        raise ValidationError("rows refused")

    monkeypatch.setattr(services, "application_set_resources", failing_rows)
    with pytest.raises(ValidationError):
        services.application_save_resources(actor=member, application=app, data={"duration_months": 3}, rows=[])
    app.refresh_from_db()
    assert app.duration_months == 1  # the step data was rolled back with the failing rows


# --- 3. AI model, 4. AI Act ----------------------------------------------------------------------------------


def test_model_activity_required(member, organisation, capacity):
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="model", data={"model_activity": ""})
    assert_refused(member, app, "Say what AI work the project does.")


@pytest.mark.parametrize("field, value, message", [
    ("parameter_count", None, "Give the number of parameters of the model."),
    ("training_tokens", None, "Give the number of training tokens."),
    ("base_model_name", "", "Name the base model you fine-tune."),
])
def test_training_details_required(member, organisation, capacity, field, value, message):
    app = f.complete(member, organisation)
    services.application_update_step(actor=member, application=app, step="model", data={field: value})
    assert_refused(member, app, message)


def test_missing_ai_act_assessment(member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=None)
    assert_refused(member, app, "Complete the EU AI Act questionnaire.")


def test_incomplete_ai_act_assessment(member, organisation, capacity):
    app = f.complete(member, organisation, ai_act={"research_only": "no"})
    assert not RiskAssessment.objects.get(application=app).complete
    # Unanswered: pre-market R&D, military use, prohibited practices, the Omnibus prohibition.
    assert_refused(member, app, "4 questions of the EU AI Act questionnaire need an answer.")


# --- 5. team, 6. ethics --------------------------------------------------------------------------------------


def test_team_required(member, organisation, capacity):
    app = f.complete(member, organisation, team=False)
    assert_refused(member, app, "Add at least one team member with a cluster username.")


def test_team_member_username_pattern(member, organisation):
    app = f.draft(member, organisation)
    for bad in ("Ines", "1ines", "ines.b", "a" * 33, "in es"):
        with pytest.raises(ValidationError) as exc:
            services.team_member_add(actor=member, application=app, full_name="Ines", email="i@example.eu",
                                     cluster_username=bad)
        assert "cluster_username" in exc.value.message_dict
    assert not app.team.exists()


def test_team_member_duplicates(member, organisation):
    app = f.draft(member, organisation)
    services.team_member_add(actor=member, application=app, full_name="Ines", email="ines@example.eu",
                             cluster_username="ines")
    with pytest.raises(ValidationError, match="already in the team"):
        services.team_member_add(actor=member, application=app, full_name="Ines B", email="INES@example.eu",
                                 cluster_username="ines2")
    with pytest.raises(ValidationError, match="Another team member uses this cluster username"):
        services.team_member_add(actor=member, application=app, full_name="Jo", email="jo@example.eu",
                                 cluster_username="ines")


def test_ethics_issue_unanswered(member, organisation, capacity):
    issues = dict(f.ETHICS_ALL_NO)
    issues["animals"] = {"answer": None}
    app = f.complete(member, organisation, ethics=issues)
    assert_refused(member, app, "Answer the ethics question on Animals.")


def test_ethics_yes_needs_a_text(member, organisation, capacity):
    issues = dict(f.ETHICS_ALL_NO)
    issues["personal_data"] = {"answer": True, "text": "   "}
    app = f.complete(member, organisation, ethics=issues)
    assert_refused(member, app, "Describe how you handle Personal data (you answered yes).")


def test_ethics_yes_with_text_is_fine(member, organisation, capacity):
    issues = dict(f.ETHICS_ALL_NO)
    issues["personal_data"] = {"answer": True, "text": "Pseudonymised under a DPIA."}
    app = f.complete(member, organisation, ethics=issues)
    assert problems(app) == []


# --- withdrawal, revision, read-only ------------------------------------------------------------------------


def test_withdraw_a_draft(member, organisation):
    app = f.draft(member, organisation)
    app = services.application_withdraw(actor=member, application=app, reason="Changed plans")
    assert app.status == ApplicationStatus.WITHDRAWN


def test_withdraw_a_submitted_application_records_the_reason(member, organisation, capacity):
    app = f.submitted(member, organisation)
    services.application_withdraw(actor=member, application=app, reason="Funding fell through")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.WITHDRAWN
    event = AuditEvent.objects.filter(action="application.status_changed", object_id=str(app.pk)).last()
    assert event.changes == {"status": ["submitted", "withdrawn"], "reason": "Funding fell through"}


@pytest.mark.parametrize("status", [ApplicationStatus.IN_REVIEW, ApplicationStatus.AWAITING_DECISION,
                                    ApplicationStatus.REVISION_REQUESTED])
def test_withdraw_allowed_before_a_decision(member, organisation, status):
    app = f.draft(member, organisation)
    Application.objects.filter(pk=app.pk).update(status=status)
    app = services.application_withdraw(actor=member, application=app)
    assert app.status == ApplicationStatus.WITHDRAWN


@pytest.mark.parametrize("status", [ApplicationStatus.APPROVED, ApplicationStatus.REJECTED])
def test_withdraw_refused_after_a_decision(member, organisation, status):
    app = f.draft(member, organisation)
    Application.objects.filter(pk=app.pk).update(status=status)
    with pytest.raises(TransitionError, match="cannot become Withdrawn"):
        services.application_withdraw(actor=member, application=app)
    app.refresh_from_db()
    assert app.status == status


def test_withdraw_twice_is_harmless(member, organisation):
    app = f.draft(member, organisation)
    services.application_withdraw(actor=member, application=app)
    events = AuditEvent.objects.count()
    assert services.application_withdraw(actor=member, application=app).status == ApplicationStatus.WITHDRAWN
    assert AuditEvent.objects.count() == events


def test_withdraw_by_someone_outside_the_organisation(member, organisation, other_org_user):
    app = f.draft(member, organisation)
    with pytest.raises(PermissionDenied):
        services.application_withdraw(actor=other_org_user, application=app)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT


def test_submitted_application_is_read_only(member, organisation, capacity):
    app = f.submitted(member, organisation)
    read_only = "This application was submitted and is read-only."
    attempts = [
        lambda: services.application_update_step(actor=member, application=app, step="project",
                                                 data={"title": "Changed"}),
        lambda: services.application_save_resources(actor=member, application=app, data={"duration_months": 2},
                                                    rows=[]),
        lambda: services.application_set_ethics_issues(actor=member, application=app, issues=f.ETHICS_ALL_NO),
        lambda: services.team_member_add(actor=member, application=app, full_name="Late", email="l@example.eu",
                                         cluster_username="late"),
        lambda: services.team_member_remove(actor=member, member=app.team.get()),
        lambda: services.attachment_add(actor=member, application=app, kind="other", upload=f.pdf_upload()),
        lambda: services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match=read_only):
            attempt()
    with pytest.raises(PermissionDenied):
        assessment_save(actor=member, application=app, answers=f.AI_ACT_RESEARCH)
    app.refresh_from_db()
    assert app.title == f.PROJECT["title"] and app.status == ApplicationStatus.SUBMITTED
    assert app.team.count() == 1


def test_revision_reopens_the_draft(member, organisation, capacity):
    app = f.submitted(member, organisation)
    application_transition(actor=AllocationManagerFactory(), application=app,
                           to=ApplicationStatus.REVISION_REQUESTED)
    with pytest.raises(ValidationError, match="read-only"):
        services.application_update_step(actor=member, application=app, step="project", data={"title": "New"})
    app = services.application_reopen(actor=member, application=app)
    assert app.status == ApplicationStatus.DRAFT
    services.application_update_step(actor=member, application=app, step="project", data={"title": "New"})
    submitted = services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert submitted.status == ApplicationStatus.SUBMITTED


def test_reopen_only_after_a_revision_request(member, organisation, capacity):
    app = f.submitted(member, organisation)
    with pytest.raises(TransitionError):
        services.application_reopen(actor=member, application=app)


def test_edit_by_someone_outside_the_organisation(member, organisation, other_org_user):
    app = f.draft(member, organisation)
    with pytest.raises(PermissionDenied):
        services.application_update_step(actor=other_org_user, application=app, step="project",
                                         data={"title": "Hijacked"})
    with pytest.raises(PermissionDenied):
        services.application_create(actor=other_org_user, organisation=organisation, title="Not mine")


# --- references ----------------------------------------------------------------------------------------------


def test_reference_format_and_sequence(member, organisation):
    year = timezone.localdate().year
    refs = [f.draft(member, organisation, title=f"Project {i}").reference for i in range(3)]
    for ref in refs:
        assert re.fullmatch(r"AIF-\d{4}-\d{4}", ref)
        assert ref.startswith(f"AIF-{year}-")
    numbers = [int(ref.rsplit("-", 1)[1]) for ref in refs]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_references_are_unique_across_organisations(member, organisation):
    other = MembershipFactory().user
    a = f.draft(member, organisation)
    b = f.draft(other, other.memberships.get().organisation)
    assert a.reference != b.reference
