"""One application from submission to a running grant, each role in a real browser, in turn.

Each person signs in, lands on their home, sees the item that waits for them, opens it, reads the
project plan (the reviewer, the ethics officer and the manager download it and the test compares the
bytes with the upload), acts, and the next role is told: a mail in the outbox and the unread count in the
header. Every page the journey shows, and the dossier PDF the applicant downloads at the end, are read by
the scanner of tests/portal/test_readable_pages.py: no raw code, ungrouped number or month-first date."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from allocations.applications import services as applications_services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus
from allocations.demo import PROJECT_PLAN
from allocations.grants.models import Allocation
from compliance import tasks
from compliance.models import EthicsStatus, Report, ReportStatus, RiskAssessment
from portal.models import AuditChainHead, AuditEvent
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as
from tests.factories.applications import file_upload
from tests.portal.test_readable_pages import raw_values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONDITION = "Delete the raw recordings once the model is trained."


class Reader:
    """Scans every page shown for raw values, and checks it with axe."""

    def __init__(self, page):
        self.page = page
        self.hits: dict[str, list[str]] = {}

    def read(self, context: str) -> None:
        axe_check(self.page, context=context)
        if hits := raw_values("text/html", self.page.content()):
            self.hits[f"{context} ({self.page.url})"] = hits


def shoot(page, name: str) -> None:
    """Screenshots at desk and phone width for a person to look at (AIF_SCREENSHOT_DIR, when set)."""
    if not (folder := os.environ.get("AIF_SCREENSHOT_DIR")):
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def download(page, link_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).first.click()
    return Path(info.value.path()).read_bytes()


def unread(page, count: int):
    return page.get_by_role("link", name=f"Notifications ({count} unread)")


def home(page, live_server, person, reader: Reader, *, staff: bool = True) -> None:
    sign_in_as(page, live_server, person)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/staff/$" if staff else r"/dashboard/$"))
    reader.read(f"home of {person.email}")


def section(page, heading: str):
    return page.locator("section.work", has=page.get_by_role("heading", name=re.compile(heading)))


def mails_to(person) -> list[str]:
    return [m.subject for m in mail.outbox if person.email in m.to]


def submitted_with_plan(applicant) -> Application:
    app = f.complete(applicant, applicant.memberships.get().organisation, ethics=f.ETHICS_PERSONAL_DATA)
    applications_services.attachment_add(actor=applicant, application=app, kind="project_plan",
                                         upload=file_upload("project-plan.pdf", PROJECT_PLAN))
    return applications_services.application_submit(actor=applicant, application=app,
                                                     declaration_version=DECLARATION_VERSION)


def test_each_role_finds_reads_acts_and_hands_over(page, live_server):
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()
    applicant = f.applicant()
    boss, person = f.manager(), f.reviewer()
    officer, operator = f.EthicsOfficerFactory(totp=True), f.OperatorFactory(totp=True)
    app = submitted_with_plan(applicant)
    reader = Reader(page)
    assert app.ethics_review.status == EthicsStatus.PENDING
    assert mails_to(officer) == [f"[AI Factory] Waiting for an ethics review: {app.reference}"]

    # 1. The manager finds the eligibility check, finds it eligible and assigns a reviewer.
    home(page, live_server, boss, reader)
    section(page, "Eligibility checks").get_by_role("link", name=re.compile(app.reference)).click()
    reader.read("eligibility check")
    page.get_by_label("Eligible: send it to review").check()
    page.get_by_role("button", name="Record the eligibility check").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.reference)
    reader.read("reviewers")
    select = page.get_by_label("Reviewer").first
    select.select_option(value=select.locator("option", has_text=person.display_name).get_attribute("value"))
    page.get_by_role("button", name="Assign technical reviewer").click()
    expect(page.locator(".messages")).to_contain_text(f"{person.display_name} was asked")
    assert mails_to(person) == [f"[AI Factory] Review assigned to you: {app.reference}"]

    # 2. The reviewer: the assignment on their home, the plan after the declaration, the rubric, the scores.
    home(page, live_server, person, reader)
    expect(unread(page, 1)).to_be_visible()
    section(page, "Conflict declarations to make").get_by_role("link", name=re.compile(app.reference)).click()
    reader.read("declaration")
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_role("button", name="Submit my declaration").click()
    assert download(page, "project-plan.pdf") == PROJECT_PLAN
    levels = page.locator("details.rubric-levels")
    levels.locator("summary").click()
    expect(levels).to_contain_text("4: Very good")
    expect(levels).to_contain_text("a small number of shortcomings")
    reader.read("review form")
    shoot(page, "review-form")
    for code, value in {"feasibility": 4, "resources": 5, "team": 4}.items():
        page.locator(f"input[name=score_{code}][value='{value}']").check()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Comments for the committee").fill("Clear plan; the DPIA covers the recordings.")
    page.get_by_role("button", name="Submit the review").click()
    expect(page.locator(".messages")).to_contain_text("your review of")
    page.get_by_role("link", name=app.reference).first.click()
    expect(page.get_by_text("88 / 100")).to_be_visible()
    reader.read("submitted review")
    shoot(page, "review-submitted")
    assert f"[AI Factory] Review submitted: {app.reference}" in mails_to(boss)

    # 3. The ethics officer: the queue on their home, the plan, the decision with a condition.
    home(page, live_server, officer, reader)
    expect(unread(page, 1)).to_be_visible()
    section(page, "Ethics reviews to decide").get_by_role("link", name=re.compile(app.reference)).click()
    reader.read("ethics review")
    assert download(page, "project-plan.pdf") == PROJECT_PLAN
    page.get_by_label("Cleared with conditions").check()
    page.get_by_role("textbox", name="Reasons").fill("Voice recordings are personal data.")
    page.get_by_role("textbox", name="Conditions", exact=True).fill(CONDITION)
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".messages")).to_be_visible()
    assert f"[AI Factory] Ready for a decision: {app.reference}" in mails_to(boss)

    # 4. The manager: two notifications, the application ready for a decision, a confirmed approval.
    home(page, live_server, boss, reader)
    expect(unread(page, 2)).to_be_visible()
    section(page, "Ready for a decision").get_by_role("link", name=re.compile(app.reference)).click()
    reader.read("decision page")
    shoot(page, "decision")
    assert download(page, "project-plan.pdf") == PROJECT_PLAN
    expect(page.get_by_text("88 / 100")).to_be_visible()
    page.get_by_label("Reasons (recorded with the decision)").fill("Sound plan, fair request.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm the approval of")
    summary = page.locator("section", has=page.get_by_role("heading", name="What the decision grants"))
    for resource in app.resources.select_related("site"):
        expect(summary.locator("tr", has_text=resource.site.name)).to_contain_text(f"{resource.gpu_hours:,}")
    expect(summary).to_contain_text(CONDITION)
    reader.read("approval confirmation")
    shoot(page, "approval-confirmation")
    page.set_viewport_size({"width": 390, "height": 900})
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the confirmation scrolls sideways by {overflow}px at 390px"
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not Allocation.objects.filter(application=app).exists()
    page.get_by_role("button", name="Confirm the approval").click()
    expect(page.locator(".messages")).to_contain_text("approved")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED
    assert any(app.reference in subject for subject in mails_to(applicant))

    # 5. The operator: a failed provisioning of the new allocation on their home, run again.
    allocation = Allocation.objects.get(application=app)
    f.sync_failure(allocation)
    home(page, live_server, operator, reader)
    section(page, "Provisioning failures").get_by_role("link", name=re.compile(app.reference)).click()
    reader.read("provisioning overview")
    row = page.locator("tr", has_text=app.reference).filter(has=page.get_by_role("button", name="Re-run"))
    row.first.get_by_role("button", name="Re-run").click()
    expect(page.locator(".messages")).to_be_visible()
    reader.read("provisioning after the re-run")

    # 6. The applicant: the approval on their dashboard, the condition acknowledged, the dossier read.
    home(page, live_server, applicant, reader, staff=False)
    page.goto(live_server.url + f"/allocations/{app.reference}/")
    expect(page.get_by_text(CONDITION)).to_be_visible()
    reader.read("allocation")
    page.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page.get_by_text(re.compile(r"acknowledged \d{1,2} \w+ \d{4}"))).to_be_visible()
    page.goto(live_server.url + f"/applications/{app.reference}/")
    reader.read("application")
    page.get_by_role("link", name="Dossier (PDF)").click()
    reader.read("dossier request")
    page.get_by_role("button", name="Generate the dossier").click()
    report = Report.objects.get(application=app, requested_by=applicant)
    assert tasks.generate_report.delay(report.pk).get() == ReportStatus.DONE  # a worker's job, done here
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=20_000)
    reader.read("dossier")
    dossier = download(page, "Download the PDF")
    if folder := os.environ.get("AIF_SCREENSHOT_DIR"):
        Path(folder, "dossier.pdf").write_bytes(dossier)
    assert dossier.startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=dossier, capture_output=True,
                          check=True).stdout.decode()
    assert app.reference in text and "Cleared with conditions" in text
    hashes = [*AuditEvent.objects.values_list("hash", flat=True), *app.attachments.values_list("sha256", flat=True),
              *RiskAssessment.objects.filter(application=app).values_list("ruleset_sha256", flat=True)]
    if hits := raw_values("application/pdf", text, hashes=hashes):
        reader.hits["applicant dossier PDF"] = hits

    assert reader.hits == {}
