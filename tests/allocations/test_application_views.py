"""The applicant journey through the pages: each step saves, bad input changes nothing, no 500s."""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus, RequestedResource, TeamMember
from allocations.applications.services import application_transition
from compliance.models import RiskAssessment
from portal.models import AuditEvent
from tests import factories as f
from tests.factories import AllocationManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name, app, *args):
    return reverse(f"applications:{name}", args=[app.reference, *args])


def html(response):
    return response.content.decode()


def snapshot(app):
    """What a refused request must not change."""
    app = Application.objects.get(pk=app.pk)
    return (app.status, app.updated_at, AuditEvent.objects.count(), RequestedResource.objects.count(),
            TeamMember.objects.count())


PROJECT_POST = {
    "title": "Vision for hospitals", "abstract": "Fine-tuning a vision model.", "public_summary": "Vision.",
    "sector": "health", "civilian_purpose": "True", "dual_use": "False", "dual_use_explanation": "",
    "rd_type": "open",
}
DECLARE = {"declaration": "on", "declaration_version": DECLARATION_VERSION}


# --- starting ------------------------------------------------------------------------------------------------


def test_start_an_application(member_client, member, organisation):
    response = member_client.get(reverse("applications:application_create"))
    assert response.status_code == 200
    assert organisation.legal_name in html(response)
    response = member_client.post(reverse("applications:application_create"),
                                  {"organisation": organisation.pk, "title": "Hospital vision"})
    app = Application.objects.get()
    assert response.status_code == 302 and response.url == url("step_project", app)
    assert (app.organisation, app.created_by, app.status, app.title) == (
        organisation, member, ApplicationStatus.DRAFT, "Hospital vision")
    assert re.fullmatch(rf"AIF-{timezone.localdate().year}-\d{{4}}", app.reference)


def test_start_for_an_organisation_one_does_not_belong_to(member_client, other_org_user):
    foreign = other_org_user.memberships.get().organisation
    response = member_client.post(reverse("applications:application_create"),
                                  {"organisation": foreign.pk, "title": "Not mine"})
    assert response.status_code == 200
    assert 'role="alert"' in html(response)
    assert not Application.objects.exists()


def test_start_without_a_title(member_client, organisation):
    response = member_client.post(reverse("applications:application_create"), {"organisation": organisation.pk,
                                                                             "title": "  "})
    assert response.status_code == 200 and "This field is required." in html(response)
    assert not Application.objects.exists()


def test_start_without_an_organisation(client):
    client.force_login(UserFactory())
    response = client.get(reverse("applications:application_create"))
    assert "You need to belong to an organisation" in html(response)


# --- steps 1-3 -------------------------------------------------------------------------------------------------


def test_project_step_saves_and_keeps_the_draft(member_client, app_draft):
    response = member_client.post(url("step_project", app_draft), PROJECT_POST)
    assert response.status_code == 302 and response.url == url("step_project", app_draft)
    # Leaving and coming back loses nothing.
    member_client.get(url("step_resources", app_draft))
    page = html(member_client.get(url("step_project", app_draft)))
    assert "Fine-tuning a vision model." in page
    assert re.search(r'value="True"[^>]*checked', page)  # civilian purpose: yes
    app = Application.objects.get(pk=app_draft.pk)
    assert (app.title, app.civilian_purpose, app.dual_use, app.rd_type) == ("Vision for hospitals", True, False,
                                                                          "open")
    assert AuditEvent.objects.filter(action="application.project_saved").count() == 1


def test_partial_project_step_is_kept(member_client, app_draft):
    response = member_client.post(url("step_project", app_draft), {"title": app_draft.title, "abstract": "Draft"})
    app = Application.objects.get(pk=app_draft.pk)
    assert app.abstract == "Draft" and app.civilian_purpose is None
    # Kept, and said so honestly: what is still missing shows at its field, not under a green "Saved.".
    page = html(response)
    assert response.status_code == 200
    assert "Saved, with 5 problems to fix before you can submit" in page
    assert "Saved. Your draft is kept" not in page
    assert '<a href="#id_public_summary">Public summary: Give the public summary.</a>' in page
    assert '<ul class="errorlist" id="id_public_summary_error"><li>Give the public summary.</li></ul>' in page


def test_save_and_continue_goes_to_the_next_step(member_client, app_draft):
    response = member_client.post(url("step_project", app_draft), {**PROJECT_POST, "continue": "1"})
    assert response.url == url("step_resources", app_draft)


def test_project_step_bad_input_changes_nothing(member_client, app_draft):
    before = snapshot(app_draft)
    response = member_client.post(url("step_project", app_draft),
                                  {**PROJECT_POST, "title": "", "sector": "astrology", "rd_type": "secret"})
    assert response.status_code == 200
    page = html(response)
    assert 'class="error-summary" role="alert"' in page
    assert "Select a valid choice" in page and "This field is required." in page
    assert snapshot(app_draft) == before


def test_step_navigation_marks_current_and_complete_steps(member_client, member, organisation, capacity):
    app = f.draft(member, organisation)
    services.application_update_step(actor=member, application=app, step="project", data=f.PROJECT)
    page = html(member_client.get(url("step_model", app)))
    assert re.search(r'href="[^"]+/ai-model/" aria-current="step">3\. AI model</a>', page)
    project_link = re.search(r'<a href="[^"]+/project/">(.*?)</a>', page).group(1)
    assert "(complete)" in project_link
    resources_link = re.search(r'<a href="[^"]+/resources/">(.*?)</a>', page).group(1)
    assert "(complete)" not in resources_link


def resources_post(mode, **overrides):
    data = {"access_mode": mode.pk, "call": "", "start_date": f.start_soon().isoformat(), "duration_months": "2",
            "site-zellik-gpu_hours": "8000", "site-zellik-cpu_core_hours": "1000", "site-zellik-storage_tb": "2.5",
            "site-charleroi-gpu_hours": "", "site-charleroi-cpu_core_hours": "", "site-charleroi-storage_tb": ""}
    data.update(overrides)
    return data


def test_the_resources_step_shows_the_free_capacity_of_every_quarter_the_request_spans(member_client, app_draft):
    """Not only the start's quarter: the submission checks each quarter, so the applicant reads each one."""
    from allocations.catalogue.models import SiteCapacity, quarter_label

    first, second, third, fourth, fifth = f.quarters(5, f.start_soon())
    for period, gpu in ((first, 40_000), (second, 30_000), (third, 20_000), (fourth, 10_000)):
        SiteCapacity.objects.update_or_create(site=f.site("zellik"), period_start=period, defaults={
            "gpu_hours": gpu, "cpu_core_hours": 7_000, "committed_gpu_hours": 1_000})
    SiteCapacity.objects.filter(period_start=fifth).delete()
    app_draft.start_date, app_draft.duration_months = f.start_soon(), 12
    app_draft.save(update_fields=["start_date", "duration_months"])
    page = html(member_client.get(url("step_resources", app_draft)))
    fieldsets = re.findall(r'<fieldset class="site">(.*?)</fieldset>', page, re.S)
    zellik = next(block for block in fieldsets if "<legend>Zellik" in block)
    for period, free in ((first, "39,000"), (second, "29,000"), (third, "19,000"), (fourth, "9,000")):
        assert f"{quarter_label(period)}: {free} GPU-hours, 7,000 CPU core-hours" in zellik
    # Twelve months from a start inside a quarter reach a fifth quarter, for which nothing is published.
    assert f"{quarter_label(fifth)}: not published yet" in zellik


def test_resources_step(member_client, app_draft, capacity):
    page = html(member_client.get(url("step_resources", app_draft)))
    assert "Fast Lane: up to 50,000 GPU-hours" in page and "decision within 4 working days" in page
    assert "Free in the quarters your allocation would span" in page
    response = member_client.post(url("step_resources", app_draft), resources_post(f.mode("fast_lane")))
    assert response.status_code == 302
    app = Application.objects.get(pk=app_draft.pk)
    assert (app.access_mode.code, app.duration_months, app.start_date) == ("fast_lane", 2, f.start_soon())
    row = RequestedResource.objects.get(application=app)
    assert (row.site.code, row.gpu_hours, row.cpu_core_hours, str(row.storage_tb)) == ("zellik", 8000, 1000, "2.50")
    # Emptying a site removes its row.
    member_client.post(url("step_resources", app_draft), resources_post(
        f.mode("fast_lane"), **{"site-zellik-gpu_hours": "", "site-zellik-cpu_core_hours": "",
                                "site-zellik-storage_tb": "", "site-charleroi-gpu_hours": "100"}))
    assert list(RequestedResource.objects.values_list("site__code", "gpu_hours")) == [("charleroi", 100)]


def test_resources_step_bad_input_changes_nothing(member_client, app_draft, capacity):
    before = snapshot(app_draft)
    response = member_client.post(url("step_resources", app_draft), resources_post(
        f.mode("fast_lane"), start_date="31/02/2026", **{"site-zellik-gpu_hours": "-5"}))
    assert response.status_code == 200
    page = html(response)
    assert "Enter a real date, for example " in page
    assert "Ensure this value is greater than or equal to 0." in page
    assert snapshot(app_draft) == before


def test_resources_over_the_cap_saves_but_shows_the_problem(member_client, app_draft, capacity):
    member_client.post(url("step_resources", app_draft), resources_post(
        f.mode("fast_lane"), **{"site-zellik-gpu_hours": "70000"}))
    page = html(member_client.get(url("step_resources", app_draft)))
    assert "Fast Lane allows at most 50,000 GPU-hours; you asked for 70,000." in page


def test_model_step(member_client, app_draft):
    data = {"model_activity": "fine_tune", "model_family": "Llama", "parameter_count": "7000000000",
            "training_tokens": "1000000000", "base_model_name": "Llama-3-8B", "base_model_flop": "1.2e24",
            "model_lineage": "hospital-vision"}
    assert member_client.post(url("step_model", app_draft), data).status_code == 302
    app = Application.objects.get(pk=app_draft.pk)
    assert (app.parameter_count, app.base_model_flop) == (7_000_000_000, 1.2e24)
    page = html(member_client.get(url("step_model", app_draft)))
    assert "Saved. Your draft is kept" in page and "open_weights" not in page


def test_model_step_bad_input_changes_nothing(member_client, app_draft):
    before = snapshot(app_draft)
    response = member_client.post(url("step_model", app_draft), {"model_activity": "fine_tune",
                                                                 "parameter_count": "seven billion",
                                                                 "base_model_flop": "-1"})
    assert response.status_code == 200
    assert "Enter a whole number." in html(response)
    assert snapshot(app_draft) == before


# --- step 4: AI Act ----------------------------------------------------------------------------------------------


def is_visible(page, question_id):
    tag = re.search(rf'<div class="field question[^"]*" data-question="{question_id}"[^>]*>', page).group(0)
    return " hidden" not in tag


def test_ai_act_conditional_question_appears_after_saving(member_client, app_draft):
    page = html(member_client.get(url("step_ai_act", app_draft)))
    assert is_visible(page, "research_only") and not is_visible(page, "pre_market_rnd")
    assert "https://eur-lex.europa.eu/eli/reg/2024/1689/oj#art_2" in page
    response = member_client.post(url("step_ai_act", app_draft), {"research_only": "no"})
    assert response.status_code == 200  # saved, with the questions that now apply still to answer
    page = html(response)
    assert "Saved, with 1 problem to fix before you can submit" in page
    assert is_visible(page, "pre_market_rnd")
    assert '<ul class="errorlist" id="id_pre_market_rnd_error"><li>Answer this question.</li></ul>' in page
    assert 'href="#id_pre_market_rnd_0"' in page
    assert not RiskAssessment.objects.get(application=app_draft).complete
    assert "Result of the assessment" in page


def test_ai_act_answers_to_hidden_questions_are_dropped(member_client, app_draft):
    member_client.post(url("step_ai_act", app_draft), {**f.AI_ACT_RESEARCH, "pre_market_rnd": "yes"})
    assessment = RiskAssessment.objects.get(application=app_draft)
    assert assessment.answers == f.AI_ACT_RESEARCH
    assert assessment.complete and assessment.classification == "out_of_scope"


def test_ai_act_result_is_shown(member_client, app_draft):
    member_client.post(url("step_ai_act", app_draft), f.AI_ACT_RESEARCH)
    page = html(member_client.get(url("step_ai_act", app_draft)))
    assert "Outside the scope of the AI Act" in page
    assert "Out of scope: scientific research only" in page and "Art. 2(6)" in page
    assert "Training compute estimate" in page


def test_ai_act_result_with_obligations_and_compute(member_client, member, organisation, capacity):
    app = f.complete(member, organisation, gpu_hours=40_000)
    # The factory's project fine-tunes a vision model: a chatbot front end that generates text.
    answers = {"research_only": "no", "pre_market_rnd": "no", "military_only": "no",
               "union_link": ["placed_in_union"], "operator_role": ["provider"], "prohibited_practices": ["none"],
               "intimate_imagery": "no", "annex_i_product": "no", "annex_iii_areas": ["none"],
               "interacts_with_persons": "yes", "interaction_obvious": "no", "synthetic_content": ["text"],
               "synthetic_content_legacy": "no", "emotion_biometric_exposure": "no", "public_disclosure": ["none"],
               "open_source_system": "no",
               "trains_model": "yes", "model_modalities": ["other"], "modifies_gpai_model": "no",
               "open_weights": "yes", "open_weights_monetised": "no"}
    Application.objects.filter(pk=app.pk).update(status=ApplicationStatus.DRAFT)
    member_client.post(url("step_ai_act", app), answers)
    page = html(member_client.get(url("step_ai_act", app)))
    assert "Applies from" in page and "Art. 50" in page
    assert "From the hardware" in page and "FLOP" in page


def test_ai_act_in_french(member_client, app_draft):
    member_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = html(member_client.get(url("step_ai_act", app_draft)))
    assert "uniquement à des fins de recherche" in page


def test_ai_act_bad_answer_changes_nothing(member_client, app_draft):
    member_client.post(url("step_ai_act", app_draft), f.AI_ACT_RESEARCH)
    before = snapshot(app_draft)
    response = member_client.post(url("step_ai_act", app_draft), {
        "research_only": "yes", "prohibited_practices": ["none"], "intimate_imagery": "maybe"})
    assert response.status_code == 200
    page = html(response)
    assert 'role="alert"' in page
    assert "Select a valid choice. maybe is not one of the available choices." in page
    # Refused by the rule set itself (through compliance.services.assessment_save).
    response = member_client.post(url("step_ai_act", app_draft), {
        "research_only": "yes", "prohibited_practices": ["none", "manipulation"], "intimate_imagery": "no"})
    assert response.status_code == 200
    assert "cannot be combined with other options" in html(response)
    assert snapshot(app_draft) == before
    assert RiskAssessment.objects.get(application=app_draft).answers == f.AI_ACT_RESEARCH


# --- steps 5-7 ---------------------------------------------------------------------------------------------------


def test_team_step_add_and_remove(member_client, app_draft, run_on_commit):
    with run_on_commit():
        response = member_client.post(url("step_team", app_draft), {
            "full_name": "Ines Engineer", "email": "ines@example.eu", "cluster_username": "ines_e"})
    assert response.status_code == 302
    member = TeamMember.objects.get()
    page = html(member_client.get(url("step_team", app_draft)))
    assert "ines_e" in page and "Waiting for confirmation" in page
    response = member_client.post(url("team_member_remove", app_draft, member.pk))
    assert response.status_code == 302 and not TeamMember.objects.exists()


@pytest.mark.parametrize("username", ["Ines", "9lives", "ines.b", "x" * 33, "in es", ""])
def test_team_step_rejects_bad_usernames(member_client, app_draft, username):
    before = snapshot(app_draft)
    response = member_client.post(url("step_team", app_draft), {
        "full_name": "Ines", "email": "ines@example.eu", "cluster_username": username})
    assert response.status_code == 200 and 'role="alert"' in html(response)
    assert snapshot(app_draft) == before


def test_team_step_duplicate_username_message(member_client, app_draft):
    member_client.post(url("step_team", app_draft), {"full_name": "A", "email": "a@example.eu",
                                                     "cluster_username": "alice"})
    response = member_client.post(url("step_team", app_draft), {"full_name": "B", "email": "b@example.eu",
                                                                "cluster_username": "alice"})
    assert "Another team member uses this cluster username." in html(response)
    assert TeamMember.objects.count() == 1


def test_team_confirmation_page(client, app_draft, member):
    services.team_member_add(actor=member, application=app_draft, full_name="Ines", email="ines@example.eu",
                             cluster_username="ines")
    member_row = TeamMember.objects.get()
    token = "known-token"
    TeamMember.objects.filter(pk=member_row.pk).update(token_hash=TeamMember.hash_token(token))
    confirm = reverse("applications:team_confirm", args=[token])
    page = client.get(confirm)
    assert page.status_code == 200 and "I confirm" in html(page)
    member_row.refresh_from_db()
    assert member_row.confirmed_at is None  # a GET (e.g. a link scanner) confirms nothing
    response = client.post(confirm)
    assert response.status_code == 200 and "Thank you" in html(response)
    member_row.refresh_from_db()
    assert member_row.confirmed_at is not None
    bad = client.post(reverse("applications:team_confirm", args=["not-a-token"]))
    assert bad.status_code == 404 and "not valid" in html(bad)


def ethics_post(**overrides):
    data = {}
    for code in f.ETHICS_ALL_NO:
        data[code] = "False"
        data[f"{code}_text"] = ""
    data.update(overrides)
    return data


def test_ethics_step(member_client, app_draft):
    response = member_client.post(url("step_ethics", app_draft), ethics_post(
        personal_data="True", personal_data_text="DPIA done", animals="True"))
    assert response.status_code == 200  # saved, with the text of a yes still missing
    app = Application.objects.get(pk=app_draft.pk)
    assert app.ethics_issues["personal_data"] == {"answer": True, "text": "DPIA done"}
    assert app.ethics_issues["misuse"] == {"answer": False, "text": ""}
    page = html(response)
    assert ('<a href="#id_animals_text">How you handle it: Animals: Describe how you handle Animals '
            '(you answered yes).</a>') in page
    assert '<ul class="errorlist" id="id_animals_text_error">' in page
    page = html(member_client.get(url("step_ethics", app_draft)))
    assert "Describe how you handle Animals (you answered yes)." in page
    assert '<th scope="row" id="issue-personal_data">Personal data</th>' in page


# --- review and submit -----------------------------------------------------------------------------------------


def test_review_lists_every_problem_grouped_by_step(member_client, app_draft):
    page = html(member_client.get(url("step_review", app_draft)))
    for slug in ("project", "resources", "ai-model", "ai-act", "team", "ethics"):
        assert re.search(rf'<h3><a href="[^"]+/{slug}/">', page), slug
    assert "Give the abstract." in page and "Complete the EU AI Act questionnaire." in page


def test_submit_incomplete_is_refused_with_every_problem(member_client, app_draft):
    before = snapshot(app_draft)
    response = member_client.post(url("application_submit", app_draft), DECLARE, follow=True)
    page = html(response)
    assert "The application cannot be submitted yet" in page
    assert "Give the abstract." in page and "Add at least one team member" in page
    assert snapshot(app_draft)[0] == before[0] == ApplicationStatus.DRAFT


def test_submit_and_then_read_only(member_client, app_complete):
    page = html(member_client.get(url("step_review", app_complete)))
    assert "Everything is complete" in page
    response = member_client.post(url("application_submit", app_complete), DECLARE)
    assert response.status_code == 302 and response.url == app_complete.get_absolute_url()
    app = Application.objects.get(pk=app_complete.pk)
    assert app.status == ApplicationStatus.SUBMITTED
    detail = html(member_client.get(response.url))
    assert "was submitted" in detail and "The access committee" in detail and "Eligibility check" in detail
    # Step pages are read-only: values, no form.
    page = html(member_client.get(url("step_project", app)))
    assert "read it here, but not change it" in page and "<form method=\"post\" novalidate" not in page
    assert app.title in page
    # A POST is refused with a clear message, and changes nothing.
    before = snapshot(app)
    for name, data in [("step_project", {**PROJECT_POST, "title": "Changed"}), ("step_team", {
            "full_name": "Late", "email": "late@example.eu", "cluster_username": "late"}),
            ("step_ethics", ethics_post()), ("step_ai_act", f.AI_ACT_RESEARCH)]:
        response = member_client.post(url(name, app), data, follow=True)
        assert response.status_code == 200
        assert "This application was submitted and is read-only; your changes were not saved." in html(response)
    assert snapshot(app) == before


def test_withdraw_with_confirmation(member_client, member, organisation, capacity):
    app = f.submitted(member, organisation)
    page = html(member_client.get(url("application_withdraw", app)))
    assert "Withdraw the application" in page and "Reason (optional)" in page
    response = member_client.post(url("application_withdraw", app), {"reason": "No longer needed"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.WITHDRAWN
    event = AuditEvent.objects.filter(action="application.status_changed").last()
    assert event.changes["reason"] == "No longer needed"
    assert "Withdrawn" in html(member_client.get(app.get_absolute_url()))


def test_withdraw_not_allowed_after_a_decision(member_client, app_draft):
    Application.objects.filter(pk=app_draft.pk).update(status=ApplicationStatus.REJECTED)
    assert "cannot be withdrawn" in html(member_client.get(url("application_withdraw", app_draft)))
    response = member_client.post(url("application_withdraw", app_draft), {"reason": "x"}, follow=True)
    assert "cannot become Withdrawn" in html(response)
    app_draft.refresh_from_db()
    assert app_draft.status == ApplicationStatus.REJECTED


def test_revise_after_a_revision_request(member_client, member, organisation, capacity):
    app = f.submitted(member, organisation)
    application_transition(actor=AllocationManagerFactory(), application=app,
                           to=ApplicationStatus.REVISION_REQUESTED)
    response = member_client.post(url("step_project", app), PROJECT_POST, follow=True)
    assert "choose Revise on the application page" in html(response)
    detail = html(member_client.get(app.get_absolute_url()))
    assert "Revise" in detail and "Revision requested" in detail
    response = member_client.post(url("application_reopen", app))
    assert response.url == url("step_project", app)
    assert member_client.post(url("step_project", app), PROJECT_POST).status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT and app.title == "Vision for hospitals"


def test_revise_refused_when_not_requested(member_client, member, organisation, capacity):
    app = f.submitted(member, organisation)
    response = member_client.post(url("application_reopen", app), follow=True)
    assert response.status_code == 200
    assert "cannot become Draft" in html(response)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED


# --- detail, dashboard, list ---------------------------------------------------------------------------------------


def test_detail_page_timeline(member_client, member, organisation, capacity):
    app = f.submitted(member, organisation)
    page = html(member_client.get(app.get_absolute_url()))
    assert "Application created" in page and "Project details saved" in page
    assert "Status changed from Draft to Submitted (eligibility check)" in page
    assert "Team member added" in page and "AI Act questionnaire saved" in page
    assert "AI Act assessment in detail" in page and "Outside the scope of the AI Act" in page
    assert member.display_name in page
    assert "application.created" not in page  # human text, not action codes


def test_detail_timeline_hides_staff_names_from_applicants(member_client, member, organisation, capacity):
    app = f.submitted(member, organisation)
    manager = AllocationManagerFactory(full_name="Marc Manager")
    application_transition(actor=manager, application=app, to=ApplicationStatus.IN_REVIEW)
    page = html(member_client.get(app.get_absolute_url()))
    assert "Marc Manager" not in page and "AI Factory staff" in page


def test_detail_page_for_staff_with_oversight(client, app_draft):
    manager = AllocationManagerFactory()
    client.force_login(manager)
    assert client.get(app_draft.get_absolute_url()).status_code == 404  # a draft is its organisation's alone
    f.mark_submitted(app_draft)
    page = client.get(app_draft.get_absolute_url())
    assert page.status_code == 200
    assert "Continue editing" not in html(page)  # staff read; only members act
    assert client.get(url("step_project", app_draft)).status_code == 404


def test_dashboard_shows_who_acts_next(member_client, member, organisation, capacity):
    draft = f.draft(member, organisation, title="The draft one")
    submitted = f.submitted(member, organisation)
    page = html(member_client.get(reverse("dashboard")))
    assert draft.reference in page and submitted.reference in page
    assert "Complete every step and submit the application." in page
    assert "Eligibility check; decision due by" in page
    assert submitted.decision_due.strftime("%Y") in page


def test_list_search_filters_and_pagination(member_client, member, organisation, capacity):
    for i in range(27):
        f.draft(member, organisation, title=f"Project {i:02d}")
    special = f.submitted(member, organisation)
    page = html(member_client.get(reverse("applications:application_list")))
    assert "28 applications" in page and "Page 1 of 2" in page
    page2 = html(member_client.get(reverse("applications:application_list"), {"page": 2}))
    assert page2.count('<th scope="row">') == 3
    found = html(member_client.get(reverse("applications:application_list"), {"q": "Project 07"}))
    assert "1 application" in found and "Project 07" in found
    by_ref = html(member_client.get(reverse("applications:application_list"), {"q": special.reference}))
    assert "1 application" in by_ref
    by_status = html(member_client.get(reverse("applications:application_list"), {"status": "submitted"}))
    assert "1 application" in by_status and special.reference in by_status
    by_mode = html(member_client.get(reverse("applications:application_list"),
                                     {"access_mode": f.mode("fast_lane").pk}))
    assert "1 application" in by_mode
    by_org = html(member_client.get(reverse("applications:application_list"), {"organisation": organisation.pk}))
    assert "28 applications" in by_org
    bad = member_client.get(reverse("applications:application_list"), {"status": "nonsense", "page": "x"})
    assert bad.status_code == 200


def test_list_never_shows_other_organisations(member_client, other_org_user):
    theirs = f.draft(other_org_user, other_org_user.memberships.get().organisation, title="Secret project")
    page = html(member_client.get(reverse("applications:application_list")))
    assert theirs.reference not in page and "Secret project" not in page
    filtered = member_client.get(reverse("applications:application_list"),
                                 {"organisation": theirs.organisation_id})
    assert filtered.status_code == 200 and "Secret project" not in html(filtered)


# --- robustness ----------------------------------------------------------------------------------------------------


GARBAGE = {"title": "x" * 500, "access_mode": "999999", "call": "abc", "start_date": "yesterday",
           "duration_months": "-3", "parameter_count": "1e999", "base_model_flop": "nan", "open_weights": "perhaps",
           "research_only": ["yes", "no"], "prohibited_practices": "manipulation", "full_name": "",
           "email": "not-an-email", "cluster_username": "Robert'); DROP TABLE", "kind": "virus",
           "personal_data": "True", "site-zellik-gpu_hours": "1e9", "site-zellik-storage_tb": "1e400"}


@pytest.mark.parametrize("name", ["step_project", "step_resources", "step_model", "step_ai_act", "step_team",
                                  "step_ethics", "step_attachments", "step_review", "application_submit",
                                  "application_withdraw", "application_reopen"])
def test_garbage_input_never_gives_a_server_error(member_client, app_draft, capacity, name):
    response = member_client.post(url(name, app_draft), GARBAGE)
    assert response.status_code in (200, 302)
    assert member_client.get(url(name, app_draft)).status_code in (200, 302, 405)


def test_start_date_long_ago_is_kept_but_flagged(member_client, app_draft, capacity):
    past = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    member_client.post(url("step_resources", app_draft), resources_post(f.mode("playground"), start_date=past))
    page = html(member_client.get(url("step_resources", app_draft)))
    assert "The start date is in the past." in page


def test_approved_application_points_to_its_allocation(member_client, member, organisation, capacity):
    from allocations.grants.models import Allocation

    app = f.submitted(member, organisation)
    Application.objects.filter(pk=app.pk).update(status=ApplicationStatus.APPROVED)
    allocation = Allocation.objects.create(
        application=app, organisation=organisation, reference=app.reference, start_date=app.start_date,
        end_date=app.start_date + datetime.timedelta(days=60), slurm_account="aif_demo_0001")
    page = html(member_client.get(app.get_absolute_url()))
    assert "Compute was granted" in page
    assert f'href="{allocation.get_absolute_url()}"' in page
    # The dashboard says what to do next with the grant, and links to where it is done.
    page = html(member_client.get(reverse("dashboard")))
    assert "Next step:" in page and "Compute was granted" not in page
    assert f'href="{allocation.get_absolute_url()}#' in page
