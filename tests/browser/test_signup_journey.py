"""A new applicant: sign up, verify the e-mail address, register an organisation, see it."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Membership, Organisation, User
from tests.browser.conftest import axe_check
from tests.factories import format_belgian, next_belgian_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ines.founder@example.eu"
PASSWORD = "Journey-through-the-portal-7"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def test_sign_up_verify_register_organisation(page, live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url  # mailed links lead to the portal's base URL
    enterprise_number = next_belgian_number()

    # Home page -> sign-up form.
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page, context="home")
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    axe_check(page, context="sign-up form")

    page.get_by_label("Full name").fill("Ines Founder")
    page.get_by_label("Email").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()

    # "Verify your e-mail address" notice; the mail went out through (eager) Celery after commit.
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    axe_check(page, context="verification sent")
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    link = CONFIRM_LINK.search(message.body)
    assert link, message.body
    assert link.group(0).startswith(live_server.url)
    assert not User.objects.get(email=EMAIL).emailaddress_set.get().verified

    # The link shows a confirmation page; confirming signs the person in.
    page.goto(link.group(0))
    axe_check(page, context="confirm e-mail")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    axe_check(page, context="empty dashboard")
    assert User.objects.get(email=EMAIL).emailaddress_set.get().verified

    # Register an organisation with a Belgian enterprise number, typed as printed on invoices.
    page.get_by_role("main").get_by_role("link", name="Register an organisation").click()
    expect(page).to_have_url(re.compile(r"/organisations/new/$"))
    axe_check(page, context="organisation form")
    page.get_by_label("Legal name").fill("Ines Robotics SRL")
    page.get_by_label("Country").select_option("BE")
    page.get_by_label("Organisation type").select_option("startup")
    page.get_by_label("VAT or enterprise number").fill(format_belgian(enterprise_number))
    page.get_by_label("Staff headcount").fill("4")
    page.get_by_label("Annual turnover").fill("250000")
    page.get_by_label("Balance-sheet total").fill("180000")
    page.get_by_label("Health").check()
    page.get_by_role("button", name="Save").click()

    # Back on the dashboard, which lists the organisation.
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("status")).to_contain_text("Organisation Ines Robotics SRL registered.")
    organisations = page.locator("section", has=page.get_by_role("heading", name="Your organisations"))
    expect(organisations.get_by_role("link", name="Ines Robotics SRL")).to_be_visible()
    expect(organisations).to_contain_text("Micro enterprise")
    axe_check(page, context="dashboard with organisation")

    org = Organisation.objects.get()
    assert org.vat_number == f"BE{enterprise_number}"
    assert Membership.objects.get(organisation=org).user.email == EMAIL

    # The organisation page opens from the dashboard.
    organisations.get_by_role("link", name="Ines Robotics SRL").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ines Robotics SRL")
    axe_check(page, context="organisation page")
