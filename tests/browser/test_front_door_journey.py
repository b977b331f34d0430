"""A founder from the front door to a running allocation: the home page and the notices, sign-up with a name,
her organisation, a step saved with a value the portal cannot hold (the error summary takes the focus, the error
is at its field and announced by it), a start date in the past and a duration the access mode does not allow
(saved, each problem at its field), the values fixed, the submission with the declaration of honour; then the
staff's steps through the services (eligibility, ethics with a condition asking for evidence, the reviews, the
approval); the condition acknowledged and its evidence uploaded, accepted by the ethics officer; the allocation
page with the connection instructions. axe finds no violation, of any impact, on the new pages.

The journey runs 1280 px wide and 320 px wide (WCAG 1.4.10, reflow): at 320 px no page it opens is wider than
the window."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from allocations.applications.models import Application, ApplicationStatus, SubmissionDeclaration
from allocations.catalogue.models import AccessMode, Site
from allocations.grants import services as grant_services
from allocations.grants.models import AllocationStatus
from allocations.provisioning.services import sync_allocation
from allocations.review import services as review_services
from compliance import services as compliance_services
from compliance.models import EthicsCondition, EthicsStatus
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, format_violations, sign_in_as
from tests.factories import OrganisationFactory, ensure_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "lena.founder@example.eu"
PASSWORD = "Front-door-to-submission-9"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")
DPIA = "Share the summary of the data protection impact assessment."


class Reflow:
    """Each page the journey opens, checked against the window's width (at 320 px: WCAG 1.4.10)."""

    def __init__(self, page, width: int):
        self.page, self.width, self.wider = page, width, {}
        page.set_viewport_size({"width": width, "height": 900})

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        scroll = self.page.evaluate("document.documentElement.scrollWidth")
        if scroll > self.width:
            self.wider[where] = scroll

    def assert_none_wider(self) -> None:
        assert not self.wider, f"pages wider than {self.width} px: {self.wider}"


def no_violation(page, context):
    """Nothing at any impact (axe_check fails on every impact; the assertion says so where it is read)."""
    violations = axe_check(page, context=context)
    assert violations == [], f"{context}:\n{format_violations(violations)}"


def focused(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        return {id: el.id, summary: el.hasAttribute('data-error-summary'), text: el.innerText || ''};
    }""")


def described_by(page, selector) -> str:
    """What a screen reader announces with the field: the text of the elements its aria-describedby names."""
    return page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        return (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
            .map((id) => document.getElementById(id)?.innerText || '').join(' | ');
    }""", selector)


@pytest.mark.parametrize("width", [1280, 320])
def test_founder_from_the_front_door_to_a_running_allocation(page, live_server, settings, tmp_path, monkeypatch,
                                                               width):
    monkeypatch.setattr("allocations.provisioning.tasks.provision_allocation.delay", lambda *a, **k: None)
    reflow = Reflow(page, width)

    def seen(context: str) -> None:
        no_violation(page, context)
        reflow.check(context)
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PORTAL_BASE_URL = live_server.url  # where mailed links lead
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.publish_capacity()

    # The home page: who runs it, the access modes from their data, the footer's notices.
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Free GPU compute for European innovators")
    modes = page.get_by_role("table", name="Access modes with their caps, durations and decision times")
    expect(modes.get_by_role("row", name=re.compile("^Fast Lane"))).to_contain_text("up to 50,000 GPU-hours")
    seen("home")
    footer = page.get_by_role("navigation", name="About this portal")
    for link, heading in [("Contact", "Contact"), ("Privacy notice", "Privacy notice"),
                          ("Legal notice", "Legal notice"), ("Accessibility", "Accessibility statement")]:
        footer.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        seen(heading)
    statement = page.get_by_role("main")
    expect(statement).to_contain_text("WCAG) 2.1, level AA")
    expect(statement.get_by_role("link", name="Report a barrier by e-mail")).to_have_attribute(
        "href", re.compile(r"^mailto:accessibility@"))

    # Sign up with a name, after the privacy notice.
    page.goto(live_server.url + "/")
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("link", name="Read the privacy notice")).to_be_visible()
    seen("sign-up form")
    page.get_by_label("Full name").fill("Lena Founder")
    page.get_by_label("Email").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    page.goto(CONFIRM_LINK.search(mail.outbox[-1].body).group(0))
    reflow.check("confirm the e-mail address")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    reflow.check("dashboard")
    founder = User.objects.get(email=EMAIL)
    assert founder.full_name == "Lena Founder"

    # Her organisation (its registration has its own journey) and a draft whose other steps are done.
    organisation = OrganisationFactory(legal_name="Lena Robotics SRL")
    f.MembershipFactory(organisation=organisation, user=founder, role="owner")
    page.goto(live_server.url + "/applications/new/")
    page.get_by_label("Project title").fill("Robot grasping from video")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 1: Project")
    reflow.check("step 1")
    app = Application.objects.get()
    # Every step through the services, resources included (the page changes them below); personal data
    # declared, so that an ethics officer reviews it.
    f.fill(founder, app, ethics=f.ETHICS_PERSONAL_DATA)

    # 2. Resources: a number the portal cannot hold.
    page.get_by_role("link", name=re.compile(r"^2\. Resources")).click()
    gpu = page.locator("#id_site-zellik-gpu_hours")
    gpu.fill("999999999999")
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary.get_by_role("link", name=re.compile(r"^Zellik, GPU-hours: Enter at most 2,147,483,647"))) \
        .to_be_visible()
    assert "Enter at most 2,147,483,647" in described_by(page, "#id_site-zellik-gpu_hours")
    expect(page.locator("#id_site-zellik-gpu_hours_error")).to_be_visible()
    seen("resources step with an error")
    # The summary's link leads to the field, with the keyboard.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_site-zellik-gpu_hours"
    assert app.resources.get().gpu_hours == 10_000  # nothing was saved

    # Fixed: saved, and said so.
    gpu.fill("12000")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    assert app.resources.get().gpu_hours == 12_000
    reflow.check("resources saved")

    # A start date in the past and a duration the access mode does not allow: saved (a draft keeps what was
    # typed), each problem at its field and in the summary.
    fast_lane = AccessMode.objects.get(code="fast_lane")
    durations = {int(d) for mode in AccessMode.objects.filter(is_active=True) for d in mode.allowed_durations}
    not_allowed = min(durations - {int(d) for d in fast_lane.allowed_durations})
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page.get_by_label("Start date").fill(yesterday.strftime("%d/%m/%Y"))
    page.get_by_label("Duration (months)").select_option(str(not_allowed))
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("2 problems")
    assert "The start date is in the past." in described_by(page, "#id_start_date")
    assert "allows durations of" in described_by(page, "#id_duration_months")
    seen("resources step with problems")
    app.refresh_from_db()
    assert (app.start_date, app.duration_months) == (yesterday, not_allowed)
    page.get_by_label("Start date").fill(f.start_soon().strftime("%d/%m/%Y"))
    page.get_by_label("Duration (months)").select_option(str(fast_lane.allowed_durations[0]))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.locator("[data-error-summary]")).to_have_count(0)

    # 8. Submit: without the declaration first, then with it.
    page.get_by_role("link", name=re.compile(r"^8\. Review and submit")).click()
    expect(page.get_by_text("Everything is complete")).to_be_visible()
    declaration = page.get_by_role("group", name="Declaration of honour")
    expect(declaration).to_contain_text("Lena Robotics SRL is eligible for the access it applies for")
    seen("review with the declaration")
    page.get_by_role("button", name="Submit the application").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert "Tick the box" in described_by(page, "#id_declaration")
    seen("declaration not ticked")
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.DRAFT
    page.get_by_label("I make this declaration of honour").check()
    page.get_by_role("button", name="Submit the application").click()
    expect(page.locator(".messages")).to_contain_text("was submitted")
    expect(page.get_by_role("main")).to_contain_text("Made by Lena Founder on")
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.SUBMITTED
    assert SubmissionDeclaration.objects.get(application=app).declared_by == founder
    reflow.check("submitted application")

    # The staff's steps, through the services: eligible, the ethics officer clears it with a condition that
    # asks for evidence, the reviews on the mode's path, the approval.
    boss = f.manager()
    review_services.application_check_eligibility(actor=boss, application=app, eligible=True)
    officer = f.EthicsOfficerFactory(totp=True)
    compliance_services.ethics_decide(actor=officer, application=app, status=EthicsStatus.CLEARED_WITH_CONDITIONS,
                                      reasons="Personal data in the training set.", evidence_conditions=[DPIA])
    for kind, count in (app.access_mode.review_path or {}).items():
        if kind in ("technical", "scientific"):
            for _ in range(int(count)):
                f.submit_review(app, f.reviewer(kind=kind), kind=kind, actor=boss)
    app.refresh_from_db()
    quotas = {r.site_id: {"gpu_hours": r.gpu_hours, "cpu_core_hours": r.cpu_core_hours}
              for r in app.resources.all()}
    allocation = review_services.application_approve(actor=boss, application=app, quotas=quotas, reasons="Sound.")
    Site.objects.filter(code="zellik").update(login_host="login.zellik.aifactory.example", default_partition="gpu",
                                              gpu_gres_type="h100",
                                              documentation_url="https://docs.aifactory.example/zellik/")

    # The founder: the dashboard's next step, the condition acknowledged and its evidence uploaded.
    page.goto(live_server.url + "/dashboard/")
    link = page.get_by_role("link", name="Acknowledge the ethics condition.")
    expect(link).to_be_visible()
    seen("dashboard with the next step")
    link.click()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Condition acknowledged.")).to_be_visible()
    condition = EthicsCondition.objects.get(review__application=app)
    evidence = tmp_path / "dpia-summary.pdf"
    evidence.write_bytes(f.pdf_bytes())
    page.get_by_label("Upload the evidence (PDF)").set_input_files(str(evidence))
    page.locator(f"#condition-{condition.pk} button[type=submit]").last.click()
    expect(page.get_by_text("Evidence uploaded: an ethics officer will examine it.")).to_be_visible()
    seen("allocation page with the evidence uploaded")

    # The ethics officer accepts it, in the browser.
    sign_in_as(page, live_server, officer)
    page.goto(live_server.url + f"/staff/ethics/{app.reference}/")
    page.get_by_label("meets the condition").check()
    seen("ethics page with the evidence")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Evidence accepted.")).to_be_visible()
    reflow.check("evidence accepted")
    condition.refresh_from_db()
    assert condition.is_met

    # Every condition met: the allocation starts on its day; the page says how to connect.
    allocation = grant_services.allocation_start_if_due(allocation=allocation, today=allocation.start_date)
    assert allocation.status == AllocationStatus.PROVISIONING
    sync_allocation(allocation_id=allocation.pk)  # the sites' accounts, through the recording backend
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE
    sign_in_as(page, live_server, founder)
    page.goto(live_server.url + f"/allocations/{allocation.reference}/")
    expect(page.get_by_role("heading", name="How to connect and run a first job")).to_be_visible()
    expect(page.get_by_text(f"sbatch -A {allocation.slurm_account}")).to_be_visible()
    expect(page.locator("pre.job-script").first).to_contain_text(f"#SBATCH --account={allocation.slurm_account}")
    expect(page.get_by_text("login.zellik.aifactory.example")).to_be_visible()
    seen("running allocation with the connection instructions")
    reflow.assert_none_wider()
