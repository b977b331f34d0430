"""The Django admin under the portal's Content-Security-Policy: its scripts (calendar and clock
shortcuts, the two-box selector, autocomplete, inline rows, the changelist's actions) are static files
and work, with no violation."""


import pytest
from playwright.sync_api import expect

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

    # A changelist with its filters and search (every admin is read-only or audited: no bulk actions).
    page.goto(live_server.url + "/admin/accounts/user/")
    expect(page.locator("#changelist-search")).to_be_visible()

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

    # An organisation: its memberships are read-only inline rows (memberships change through the owner's
    # pages); the organisation's own fields save through the audited service.
    page.goto(live_server.url + f"/admin/accounts/organisation/{membership.organisation.pk}/change/")
    expect(page.locator("#memberships-group .add-row a")).to_be_hidden()
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
