"""Errors on the account and organisation forms are tied to their fields: each input (or the fieldset of a group)
names its error list in aria-describedby, by the id the list carries."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def described_errors(page, field_id, tag="input"):
    """The error messages the element with `field_id` points at through aria-describedby."""
    element = re.search(rf'<{tag}[^>]*\bid="{field_id}"[^>]*>', page)
    assert element, f"no <{tag}> with id {field_id}"
    describedby = re.search(r'aria-describedby="([^"]+)"', element.group(0))
    assert describedby, element.group(0)
    messages = []
    for ref in describedby.group(1).split():
        target = re.search(rf'<ul class="errorlist" id="{ref}"[^>]*>(.*?)</ul>', page, re.S)
        if target:
            messages += re.findall(r"<li>(.*?)</li>", target.group(1))
    return messages


def fieldset_errors(page, field_id):
    """The error messages the fieldset around the options of `field_id` points at."""
    fieldset = re.search(rf'<fieldset aria-describedby="([^"]+)">(?:(?!</fieldset>).)*\bid="{field_id}_0"', page,
                         re.S)
    assert fieldset, f"no fieldset describing {field_id}"
    messages = []
    for ref in fieldset.group(1).split():
        target = re.search(rf'<ul class="errorlist" id="{ref}"[^>]*>(.*?)</ul>', page, re.S)
        if target:
            messages += re.findall(r"<li>(.*?)</li>", target.group(1))
    return messages


def test_organisation_form(member_client):
    page = member_client.post(reverse("accounts:organisation_create"), {
        "legal_name": "", "country": "BE", "org_type": "startup", "vat_number": "0403.170.701", "headcount": "-1",
        "annual_turnover": "1", "balance_sheet_total": "1", "sectors": ["astrology"]}).content.decode()
    assert described_errors(page, "id_legal_name") == ["This field is required."]
    assert described_errors(page, "id_headcount") == ["Ensure this value is greater than or equal to 0."]
    assert fieldset_errors(page, "id_sectors") == [
        "Select a valid choice. astrology is not one of the available choices."]


def test_api_token_form(member_client):
    page = member_client.post(reverse("accounts:api_tokens"), {"name": "", "access": "read"}).content.decode()
    assert described_errors(page, "id_name") == ["This field is required."]


def test_erase_form(member_client):
    page = member_client.post(reverse("accounts:privacy_erase"), {"confirm": "erase"}).content.decode()
    assert described_errors(page, "id_confirm") == ["Type ERASE in capital letters to confirm."]
