"""An applicant goes from a blank draft through every step to submission, in a real browser.

The AI Act questionnaire shows a conditional question appearing as soon as the answer that opens
it is chosen (progressive enhancement), and the server agrees once saved. Every page passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from allocations.applications.models import Application, ApplicationStatus
from compliance.models import RiskAssessment
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as
from tests.factories import MembershipFactory, ensure_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def save_and_continue(page):
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")


def test_blank_draft_to_submission(page, live_server, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()
    membership = MembershipFactory()
    member, organisation = membership.user, membership.organisation
    sign_in_as(page, live_server, member)

    # Dashboard -> start.
    page.goto(live_server.url + "/dashboard/")
    axe_check(page, context="dashboard")
    page.get_by_role("link", name="Start an application").first.click()
    axe_check(page, context="start an application")
    page.get_by_label("Organisation").select_option(label=organisation.legal_name)
    page.get_by_label("Project title").fill("Speech recognition for Walloon dialects")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 1: Project")
    app = Application.objects.get()
    expect(page.locator('nav[aria-label="Application steps"] [aria-current="step"]')).to_contain_text("Project")

    # 1. Project: a bad save first (empty title) shows the error summary and keeps the draft.
    page.get_by_label("Project title").fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Project title")
    axe_check(page, context="project step with errors")
    page.get_by_label("Project title").fill("Speech recognition for Walloon dialects")
    page.get_by_label("Abstract").fill("Fine-tune a speech model on recordings of Walloon speakers.")
    page.get_by_label("Public summary").fill("Speech recognition that understands Walloon.")
    page.get_by_label("Sector").select_option("research")
    page.locator("fieldset", has_text="exclusively civilian purpose").get_by_label("Yes").check()
    page.locator("fieldset", has_text="dual (civil and military) use").get_by_label("No").check()
    page.get_by_label("Open R&D (results published)").check()
    save_and_continue(page)

    # 2. Resources.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 2: Resources")
    axe_check(page, context="resources step")
    page.get_by_label(re.compile(r"Fast Lane: up to 50,000 GPU-hours")).check()
    page.get_by_label("Start date").fill(f.start_soon().isoformat())
    page.get_by_label("Duration (months)").select_option("2")
    page.locator("#id_site-zellik-gpu_hours").fill("8000")
    page.locator("#id_site-zellik-storage_tb").fill("2")
    save_and_continue(page)

    # 3. AI model: the base-model fields show once "fine-tune" is chosen.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 3: AI model")
    axe_check(page, context="AI model step")
    expect(page.get_by_label("Base model", exact=True)).to_be_hidden()
    page.get_by_label("Fine-tune or adapt an existing model").check()
    expect(page.get_by_label("Base model", exact=True)).to_be_visible()
    page.get_by_label("Model family or architecture").fill("Conformer")
    page.get_by_label("Parameters").fill("600000000")
    page.get_by_label("Training tokens").fill("50000000")
    page.get_by_label("Base model", exact=True).fill("whisper-medium")
    save_and_continue(page)

    # 4. AI Act: a conditional question appears as soon as the answer that opens it is chosen.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 4: AI Act questionnaire")
    axe_check(page, context="AI Act questionnaire")
    research_only = page.locator('[data-question="research_only"]')
    pre_market = page.locator('[data-question="pre_market_rnd"]')
    expect(pre_market).to_be_hidden()
    expect(research_only.get_by_role("link", name=re.compile("EUR-Lex"))).to_have_attribute(
        "href", re.compile(r"^https://eur-lex\.europa\.eu/"))
    research_only.get_by_label("No").check()
    expect(pre_market).to_be_visible()
    axe_check(page, context="AI Act questionnaire with a conditional question shown")
    # Saved with research_only = no: the server shows the newly applicable questions too.
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved, with 1 problem to fix")
    expect(pre_market).to_contain_text("Answer this question.")
    expect(pre_market).to_be_visible()
    assert not RiskAssessment.objects.get(application=app).complete
    # Research only after all: the conditional questions go away again.
    research_only.get_by_label("Yes").check()
    expect(pre_market).to_be_hidden()
    prohibited = page.locator('[data-question="prohibited_practices"]')
    prohibited.get_by_label("None of these").check()
    page.locator('[data-question="intimate_imagery"]').get_by_label("No").check()
    page.get_by_role("button", name="Save answers").click()
    result = page.locator("section", has=page.get_by_role("heading", name="Result of the assessment"))
    expect(result).to_contain_text("Outside the scope of the AI Act")
    expect(result).to_contain_text("Art. 2(6)")
    expect(result).to_contain_text("From the hardware")
    axe_check(page, context="AI Act result")
    assert RiskAssessment.objects.get(application=app).complete
    page.get_by_role("link", name=re.compile(r"^5\. Team")).click()

    # 5. Team.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 5: Team")
    axe_check(page, context="team step")
    page.get_by_label("Full name").fill("Ines Engineer")
    page.get_by_label("E-mail address").fill("ines@example.eu")
    page.get_by_label("Cluster username").fill("Ines!")
    page.get_by_role("button", name="Add and send the confirmation e-mail").click()
    expect(page.get_by_role("alert")).to_contain_text("Cluster username")
    axe_check(page, context="team step with errors")
    page.get_by_label("Cluster username").fill("ines")
    page.get_by_role("button", name="Add and send the confirmation e-mail").click()
    expect(page.get_by_role("table", name="Team members")).to_contain_text("ines")
    page.get_by_role("link", name=re.compile(r"^6\. Ethics issues")).click()

    # 6. Ethics issues: no to everything but personal data, which needs a text.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 6: Ethics issues")
    axe_check(page, context="ethics step")
    for row in page.locator("table.ethics tbody tr").all():
        row.get_by_label("No", exact=True).check()
    personal = page.locator("table.ethics tbody tr", has_text="Personal data")
    personal.get_by_label("Yes", exact=True).check()
    personal.locator("textarea").fill("Recordings are pseudonymised; speakers signed consent forms.")
    save_and_continue(page)

    # 7. Attachments.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 7: Attachments")
    axe_check(page, context="attachments step")
    page.get_by_label("Kind of document").select_option("project_plan")
    page.get_by_label("PDF file").set_input_files(files=[{"name": "plan.pdf", "mimeType": "application/pdf",
                                                          "buffer": f.pdf_bytes()}])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("table", name="Attached documents")).to_contain_text("plan.pdf")
    page.get_by_role("link", name=re.compile(r"^8\. Review and submit")).click()

    # 8. Review and submit.
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 8: Review and submit")
    expect(page.get_by_text("Everything is complete")).to_be_visible()
    for step in ("1. Project", "2. Resources", "3. AI model", "4. AI Act questionnaire", "5. Team",
                 "6. Ethics issues", "7. Attachments"):
        expect(page.locator('nav[aria-label="Application steps"] li', has_text=step)).to_contain_text("(complete)")
    axe_check(page, context="review and submit")
    page.get_by_label("I make this declaration of honour").check()
    page.get_by_role("button", name="Submit the application").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.reference)
    expect(page.locator(".messages")).to_contain_text("was submitted")
    expect(page.get_by_text("Status changed from Draft to Submitted (eligibility check)")).to_be_visible()
    axe_check(page, context="application detail after submission")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED and app.decision_due is not None

    # Read-only afterwards.
    page.goto(live_server.url + f"/applications/{app.reference}/project/")
    expect(page.get_by_text("read it here, but not change it")).to_be_visible()
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    axe_check(page, context="read-only step")

    # The list page.
    page.goto(live_server.url + "/applications/")
    expect(page.get_by_role("table")).to_contain_text(app.reference)
    axe_check(page, context="application list")
