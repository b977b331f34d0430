"""The API's interactive documentation (Swagger UI) runs under the portal's Content-Security-Policy:
it renders the schema and a signed-in person can try an operation from it, with no violation."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_and_tries_an_operation(page, live_server):
    member = f.applicant()
    sign_in_as(page, live_server, member)
    page.goto(live_server.url + "/api/docs/")
    path = page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/me/$"))
    operation = page.locator(".opblock-tag-section .opblock", has=path).first
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    body = operation.locator(".responses-wrapper .live-responses-table .response-col_description pre").first
    expect(body).to_contain_text(member.email)
    assert json.loads(body.inner_text())["email"] == member.email


def test_redoc_address_leads_to_swagger_ui(page, live_server):
    page.goto(live_server.url + "/api/redoc/")
    expect(page).to_have_url(re.compile(r"/api/docs/$"))
    expect(page.locator(".opblock").first).to_be_visible()
