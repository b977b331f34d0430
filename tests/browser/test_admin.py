"""The Django admin under the portal's Content-Security-Policy: its scripts (calendar and clock
shortcuts, the two-box selector, autocomplete, inline rows, the changelist's actions) are static files
and work, with no violation."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Membership
from tests import factories as f
from tests.browser.conftest import sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_pages_and_their_widgets(page, live_server):
    f.ensure_reference_data()
    admin = f.AdminFactory(totp=True, email="operator@aif.example.be", full_name="Olga Operator")
    membership = f.OwnerMembershipFactory()
    sign_in_as(page, live_server, admin)

    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # A changelist: select all rows, the action bar counts them (actions.js).
    page.goto(live_server.url + "/admin/accounts/user/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text(re.compile(r"\d+ of \d+ selected"))

    # Calendar and clock shortcuts (DateTimeShortcuts.js) on a date-time field.
    page.goto(live_server.url + "/admin/allocations/call/add/")
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    expect(page.locator("#id_opens_at_0")).not_to_have_value("")
    page.locator("#id_opens_at_0 ~ .datetimeshortcuts .date-icon").first.click()
    expect(page.locator(".calendarbox").first).to_be_visible()

    # The two-box selector (SelectFilter2.js).
    page.goto(live_server.url + f"/admin/accounts/user/{admin.pk}/change/")
    expect(page.locator("#id_groups_from")).to_be_visible()
    expect(page.locator("#id_groups_filter, #id_groups_input").first).to_be_visible()

    # Inline rows and autocomplete (select2) on an organisation.
    page.goto(live_server.url + f"/admin/accounts/organisation/{membership.organisation.pk}/change/")
    page.locator("#memberships-group .add-row a").click()
    row = page.locator("#memberships-group tr.dynamic-memberships").last
    row.locator(".select2-selection").first.click()
    page.locator(".select2-search__field").fill("operator@")
    page.locator(".select2-results__option", has_text="Olga Operator").click()
    row.locator("select[name$='-role']").select_option(index=1)
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert Membership.objects.filter(organisation=membership.organisation, user=admin).exists()
