"""A founder from the front door to a submitted application: the home page and the notices, sign-up with a name,
a step saved with a value the portal cannot hold (the error summary takes the focus, the error is at its field and
announced by it), the value fixed, and the submission with the declaration of honour. axe finds no violation, of
any impact, on the new pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from allocations.applications.models import Application, ApplicationStatus, SubmissionDeclaration
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check
from tests.factories import OrganisationFactory, ensure_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "lena.founder@example.eu"
PASSWORD = "Front-door-to-submission-9"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def no_violation(page, context):
    """Stricter than axe_check for the pages this journey adds: nothing at any impact."""
    violations = axe_check(page, context=context)
    assert violations == [], f"{context}: {[(v['impact'], v['id']) for v in violations]}"


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


def test_front_door_sign_up_fix_a_step_and_submit_with_the_declaration(page, live_server, settings, tmp_path):
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
    no_violation(page, "home")
    footer = page.get_by_role("navigation", name="About this portal")
    for link, heading in [("Contact", "Contact"), ("Privacy notice", "Privacy notice"),
                          ("Legal notice", "Legal notice"), ("Accessibility", "Accessibility statement")]:
        footer.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        no_violation(page, heading)
    statement = page.get_by_role("main")
    expect(statement).to_contain_text("WCAG) 2.1, level AA")
    expect(statement.get_by_role("link", name="Report a barrier by e-mail")).to_have_attribute(
        "href", re.compile(r"^mailto:accessibility@"))

    # Sign up with a name, after the privacy notice.
    page.goto(live_server.url + "/")
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("link", name="Read the privacy notice")).to_be_visible()
    no_violation(page, "sign-up form")
    page.get_by_label("Full name").fill("Lena Founder")
    page.get_by_label("Email").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    page.goto(CONFIRM_LINK.search(mail.outbox[-1].body).group(0))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    founder = User.objects.get(email=EMAIL)
    assert founder.full_name == "Lena Founder"

    # Her organisation (its registration has its own journey) and a draft whose other steps are done.
    organisation = OrganisationFactory(legal_name="Lena Robotics SRL")
    f.MembershipFactory(organisation=organisation, user=founder, role="owner")
    page.goto(live_server.url + "/applications/new/")
    page.get_by_label("Project title").fill("Robot grasping from video")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Step 1: Project")
    app = Application.objects.get()
    f.fill(founder, app)  # every step through the services, resources included: the page changes them below

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
    no_violation(page, "resources step with an error")
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

    # 8. Submit: without the declaration first, then with it.
    page.get_by_role("link", name=re.compile(r"^8\. Review and submit")).click()
    expect(page.get_by_text("Everything is complete")).to_be_visible()
    declaration = page.get_by_role("group", name="Declaration of honour")
    expect(declaration).to_contain_text("Lena Robotics SRL is eligible for the access it applies for")
    no_violation(page, "review with the declaration")
    page.get_by_role("button", name="Submit the application").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert "Tick the box" in described_by(page, "#id_declaration")
    no_violation(page, "declaration not ticked")
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.DRAFT
    page.get_by_label("I make this declaration of honour").check()
    page.get_by_role("button", name="Submit the application").click()
    expect(page.locator(".messages")).to_contain_text("was submitted")
    expect(page.get_by_role("main")).to_contain_text("Made by Lena Founder on")
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.SUBMITTED
    assert SubmissionDeclaration.objects.get(application=app).declared_by == founder
