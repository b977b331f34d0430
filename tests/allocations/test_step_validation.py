"""The application steps tell the truth: what cannot be stored is refused at its field and nothing changes;
what breaks a submission rule is saved, shown at its field and in a summary at the top, and "Saved." is said
only when the step has no problem left. The step badges say "complete" only when the step's checks pass."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from allocations.applications import services
from allocations.applications.models import Application, RequestedResource
from allocations.catalogue.models import quarter_label, spread_pro_rata
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

HUGE = "999999999999"


def url(name, app):
    return reverse(f"applications:{name}", args=[app.reference])


def html(response):
    return response.content.decode()


def snapshot(app):
    app = Application.objects.get(pk=app.pk)
    return (app.updated_at, app.access_mode_id, app.start_date, app.duration_months, AuditEvent.objects.count(),
            list(RequestedResource.objects.values_list("site__code", "gpu_hours", "cpu_core_hours")))


def resources_post(mode="fast_lane", **overrides):
    data = {"access_mode": f.mode(mode).pk, "call": "", "start_date": f.start_soon().isoformat(),
            "duration_months": "2", "site-zellik-gpu_hours": "8000", "site-zellik-cpu_core_hours": "1000",
            "site-zellik-storage_tb": "2.5", "site-charleroi-gpu_hours": "", "site-charleroi-cpu_core_hours": "",
            "site-charleroi-storage_tb": ""}
    data.update(overrides)
    return data


def summary(page):
    """The error summary at the top of the form: its title and its (link, text) items."""
    block = re.search(r'<div class="error-summary"[^>]*data-error-summary>(.*?)</div>', page, re.S)
    assert block, "no error summary on the page"
    title = re.search(r'<h2 id="error-summary-title">(.*?)</h2>', block.group(1)).group(1)
    items = re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', block.group(1))
    return title, items


def error_at(page, field_id):
    """The messages shown at a field, checked to be the list its input names in aria-describedby."""
    errors = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', page, re.S)
    assert errors, f"no error list for {field_id}"
    described = re.search(rf'<[^>]*id="{field_id}"[^>]*>', page).group(0)
    assert re.search(rf'aria-describedby="[^"]*\b{field_id}_error\b', described), described
    return re.findall(r"<li>(.*?)</li>", errors.group(1))


# --- values the database cannot hold ----------------------------------------------------------------------


def test_a_huge_number_of_gpu_hours_is_refused_at_its_field_and_nothing_changes(member_client, app_draft, capacity):
    before = snapshot(app_draft)
    response = member_client.post(url("step_resources", app_draft),
                                  resources_post(**{"site-zellik-gpu_hours": HUGE}))
    assert response.status_code == 200
    page = html(response)
    title, items = summary(page)
    assert title == "Nothing was saved: please correct the following"
    message = "Enter at most 2,147,483,647: a larger amount cannot be recorded."
    assert ("id_site-zellik-gpu_hours", f"Zellik, GPU-hours: {message}") in items
    assert error_at(page, "id_site-zellik-gpu_hours") == [message]
    assert f'value="{HUGE}"' in page  # what was typed stays in the field, to be corrected
    assert "Saved." not in page
    assert snapshot(app_draft) == before


def test_a_huge_parameter_count_is_refused_without_a_server_error(member_client, app_draft):
    before = snapshot(app_draft)
    response = member_client.post(url("step_model", app_draft), {"model_activity": "train",
                                                                 "parameter_count": "1" + "0" * 20})
    assert response.status_code == 200
    assert error_at(html(response), "id_parameter_count") == [
        "Enter at most 9,223,372,036,854,775,807: a larger amount cannot be recorded."]
    assert snapshot(app_draft) == before


def test_the_resources_service_refuses_an_amount_the_column_cannot_hold(member, app_draft, capacity):
    before = snapshot(app_draft)
    with pytest.raises(ValidationError) as exc:
        services.application_set_resources(actor=member, application=app_draft, rows=[
            {"site": f.site("zellik"), "gpu_hours": 2_147_483_648, "cpu_core_hours": 0, "storage_tb": Decimal(0)}])
    assert "Zellik: enter a whole number of hours from 0 to 2,147,483,647." in exc.value.messages
    assert snapshot(app_draft) == before


# --- values that break a submission rule: saved, and shown where they are -----------------------------------


def test_a_start_date_in_the_past_is_saved_and_shown_at_its_field(member_client, app_draft, capacity):
    past = timezone.localdate() - datetime.timedelta(days=3)
    response = member_client.post(url("step_resources", app_draft), resources_post(start_date=past.isoformat()))
    assert response.status_code == 200
    assert Application.objects.get(pk=app_draft.pk).start_date == past  # the draft keeps what was typed
    page = html(response)
    title, items = summary(page)
    assert title.startswith("Saved, with ") and title.endswith(" to fix before you can submit")
    assert ("id_start_date", "Start date: The start date is in the past.") in items
    assert "The start date is in the past." in error_at(page, "id_start_date")
    assert "Saved. Your draft is kept" not in page


def test_a_duration_the_mode_does_not_allow_is_saved_and_shown_at_its_field(member_client, app_draft, capacity):
    response = member_client.post(url("step_resources", app_draft), resources_post(duration_months="12"))
    assert response.status_code == 200
    assert Application.objects.get(pk=app_draft.pk).duration_months == 12
    page = html(response)
    title, items = summary(page)
    assert title == "Saved, with 1 problem to fix before you can submit"
    assert items == [("id_duration_months", "Duration (months): Fast Lane allows durations of 1, 2, 3 months.")]
    assert error_at(page, "id_duration_months") == ["Fast Lane allows durations of 1, 2, 3 months."]


def test_with_two_gpu_hours_fields_the_summary_names_the_site(member_client, app_draft, capacity):
    f.set_capacity(site_code="zellik", gpu_hours=100)
    response = member_client.post(url("step_resources", app_draft), resources_post(**{
        "site-zellik-gpu_hours": "30000", "site-charleroi-gpu_hours": "25000"}))
    page = html(response)
    _, items = summary(page)
    cap = "Fast Lane allows at most 50,000 GPU-hours; you asked for 55,000."
    app = Application.objects.get(pk=app_draft.pk)
    period, share = spread_pro_rata(30_000, app.start_date, services.application_end_date(app))[0]
    left = (f"Zellik has 100 GPU-hours left in {quarter_label(period)}; your request needs {share:,} of them in "
            f"that quarter.")
    # The total goes to the first site that asks for GPU-hours; one site's capacity to that site.
    assert ("id_site-charleroi-gpu_hours", f"Charleroi, GPU-hours: {cap}") in items
    assert ("id_site-zellik-gpu_hours", f"Zellik, GPU-hours: {left}") in items
    assert error_at(page, "id_site-zellik-gpu_hours") == [left]
    assert error_at(page, "id_site-charleroi-gpu_hours") == [cap]
    assert sorted(RequestedResource.objects.values_list("site__code", "gpu_hours")) == [
        ("charleroi", 25000), ("zellik", 30000)]


@pytest.fixture
def as_user_client(member):
    client = APIClient()
    client.credentials(**f.auth(f.token(member)))
    return client


def test_the_api_names_the_site_of_a_problem(as_user_client, app_draft, member, capacity):
    f.set_capacity(site_code="zellik", gpu_hours=10)
    services.application_save_resources(actor=member, application=app_draft, data={
        "access_mode": f.mode("fast_lane"), "start_date": f.start_soon(), "duration_months": 2},
        rows=[{"site": f.site("zellik"), "gpu_hours": 5000, "cpu_core_hours": 0, "storage_tb": 0}])
    app = Application.objects.get(pk=app_draft.pk)
    period, share = spread_pro_rata(5000, app.start_date, services.application_end_date(app))[0]
    problems = as_user_client.get(f"/api/v1/applications/{app_draft.reference}/problems/").json()
    assert {"step": "resources", "field": "gpu_hours", "site": "zellik",
            "message": f"Zellik has 10 GPU-hours left in {quarter_label(period)}; your request needs {share:,} of "
                       f"them in that quarter."} in problems


def test_saved_is_said_only_when_the_step_has_no_problem(member_client, app_draft, capacity):
    response = member_client.post(url("step_resources", app_draft), resources_post())
    assert response.status_code == 302
    page = html(member_client.get(response.url))
    assert "Saved. Your draft is kept" in page and "data-error-summary" not in page


def test_save_and_continue_with_problems_stays_and_offers_the_next_step(member_client, app_draft, capacity):
    response = member_client.post(url("step_resources", app_draft),
                                  resources_post(duration_months="12", **{"continue": "1"}))
    assert response.status_code == 200
    page = html(response)
    assert "You can fix them now or later." in page
    assert f'<a href="{url("step_model", app_draft)}">Continue to the next step: AI model</a>' in page


def test_a_step_just_opened_lists_its_problems_at_the_top_without_marking_the_fields(member_client, app_draft):
    page = html(member_client.get(url("step_project", app_draft)))
    assert page.index("Still needed in this step before you can submit") < page.index('<form method="post" novalidate')
    assert '<a href="#id_abstract">Abstract: Give the abstract.</a>' in page
    assert '<a href="#id_rd_type_0">Type of R&amp;D: Give the type of R&amp;D.</a>' in page
    assert 'class="errorlist"' not in page and "data-error-summary" not in page


# --- the step badges ----------------------------------------------------------------------------------------


def completed_steps(page):
    nav = re.search(r'<nav aria-label="Application steps">(.*?)</nav>', page, re.S).group(1)
    return {re.sub(r"<.*", "", label).split(". ", 1)[1].strip()
            for label in re.findall(r'<a href="[^"]+"[^>]*>(.*?)</a>', nav) if "(complete)" in label}


def test_a_fresh_draft_has_no_complete_step(member_client, app_draft):
    assert completed_steps(html(member_client.get(url("step_attachments", app_draft)))) == set()


def test_attachments_are_complete_once_the_mode_says_none_is_needed(member_client, member, app_draft, capacity):
    services.application_save_resources(actor=member, application=app_draft, data={
        "access_mode": f.mode("fast_lane"), "start_date": f.start_soon(), "duration_months": 2},
        rows=[{"site": f.site("zellik"), "gpu_hours": 500, "cpu_core_hours": 0, "storage_tb": 0}])
    assert completed_steps(html(member_client.get(url("step_attachments", app_draft)))) == {
        "Resources", "Attachments"}


def test_attachments_stay_incomplete_until_the_plan_a_call_needs_is_attached(member_client, member, app_draft):
    f.publish_capacity()
    call = f.open_call()
    services.application_save_resources(actor=member, application=app_draft, data={
        "access_mode": f.mode("large_scale"), "call": call, "start_date": f.start_soon(), "duration_months": 3},
        rows=[{"site": f.site("zellik"), "gpu_hours": 60_000, "cpu_core_hours": 0, "storage_tb": 0}])
    assert "Attachments" not in completed_steps(html(member_client.get(url("step_attachments", app_draft))))
    services.attachment_add(actor=member, application=app_draft, kind="project_plan", upload=f.pdf_upload())
    assert "Attachments" in completed_steps(html(member_client.get(url("step_attachments", app_draft))))


# --- errors tied to their fields for assistive technology ---------------------------------------------------


def test_radio_groups_name_their_errors(member_client, app_draft):
    response = member_client.post(url("step_project", app_draft), {"title": app_draft.title, "rd_type": "secret"})
    page = html(response)
    assert re.search(r'<fieldset aria-describedby="id_rd_type_helptext id_rd_type_error">', page)
    assert '<ul class="errorlist" id="id_rd_type_error">' in page
