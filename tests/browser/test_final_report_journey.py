"""An applicant records two outputs of an ended allocation (a publication by its DOI and a released
model), files the final report, and an allocation manager accepts it from the staff home; every page
goes through axe, and the pages are kept as screenshots at 1280 and 390 px."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from allocations.outcomes.models import FinalReport, FinalReportStatus, Output
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, folder: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_applicant_files_a_final_report_with_two_outputs_and_a_manager_accepts_it(page, live_server, tmp_path):
    f.ensure_reference_data()
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    alloc = f.ended_allocation(ended_days_ago=20)
    applicant = alloc.application.created_by
    manager = f.manager()

    sign_in_as(page, live_server, applicant)
    page.goto(f"{live_server.url}/allocations/{alloc.reference}/")
    axe_check(page, context="allocation")
    page.get_by_role("link", name="Outputs and the acknowledgement sentence for publications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Outputs of {alloc.reference}")
    expect(page.locator("#acknowledgement")).to_contain_text(alloc.reference)
    axe_check(page, context="outputs")

    page.get_by_label("Kind").select_option("publication")
    page.get_by_label("Title").fill("Dutch speech recognition for call centres")
    page.get_by_label("DOI").fill("10.12/not-a-doi")
    page.get_by_role("button", name="Record the output").click()
    expect(page.locator("#id_doi_error")).to_contain_text("This is not a DOI")
    expect(page.locator("#id_link_error")).to_have_count(0)
    axe_check(page, context="outputs with an error")
    page.get_by_label("DOI").fill("https://doi.org/10.5555/aif.speech.2026")
    page.get_by_role("button", name="Record the output").click()
    expect(page.get_by_role("cell", name="10.5555/aif.speech.2026")).to_be_visible()

    page.get_by_label("Kind").select_option("model")
    page.get_by_label("Title").fill("whisper-nl-callcentre")
    page.get_by_label("Link", exact=True).fill("https://huggingface.co/demo-vision/whisper-nl-callcentre")
    page.get_by_role("button", name="Record the output").click()
    expect(page.get_by_role("link", name="whisper-nl-callcentre")).to_be_visible()
    _shot(page, shots, "outputs")

    page.get_by_role("link", name="The final report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Final report of {alloc.reference}")
    axe_check(page, context="final report")
    page.get_by_label("Results").fill("A Dutch speech model with 8 % word error rate on call-centre audio.")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Your final report was saved as a draft.")).to_be_visible()
    page.get_by_label("Lessons learned").fill("Profile the data loader before asking for more GPUs.")
    page.get_by_label("How the compute was used").fill("Three fine-tuning runs on 32 GPUs; 70 % of the quota.")
    page.get_by_role("button", name="Submit the final report").click()
    expect(page.locator("#id_ai_act_still_holds_error")).to_contain_text(
        "Say whether the AI Act assessment still holds.")
    page.get_by_label("Yes, it still holds").check()
    _shot(page, shots, "final-report-form")
    page.get_by_role("button", name="Submit the final report").click()
    expect(page.get_by_text("Your final report was sent to the access committee.")).to_be_visible()
    axe_check(page, context="final report submitted")
    assert FinalReport.objects.get(allocation=alloc).status == FinalReportStatus.SUBMITTED
    assert Output.objects.filter(allocation=alloc).count() == 2

    sign_in_as(page, live_server, manager)
    page.goto(live_server.url + "/staff/")
    axe_check(page, context="staff home")
    section = page.locator("section", has=page.get_by_role("heading", name="Final reports to review"))
    section.get_by_role("link", name=re.compile(alloc.reference)).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Final report of {alloc.reference}")
    expect(page.get_by_role("cell", name="10.5555/aif.speech.2026")).to_be_visible()
    axe_check(page, context="staff final report")
    _shot(page, shots, "staff-final-report")
    page.get_by_label("Accept the report").check()
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text(f"The final report of {alloc.reference} is accepted.")).to_be_visible()
    assert FinalReport.objects.get(allocation=alloc).status == FinalReportStatus.ACCEPTED

    page.goto(live_server.url + "/staff/final-reports/")
    axe_check(page, context="staff final reports")
    expect(page.get_by_role("link", name=alloc.reference)).to_be_visible()
    _shot(page, shots, "staff-final-report-list")
