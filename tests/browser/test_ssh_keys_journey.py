"""A person adds an SSH public key from their account page, sees a private key refused next to the field,
and removes the key; the page passes the accessibility checks at 1280 and 390 px."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import SshPublicKey
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_refuse_and_remove_a_key(page, live_server, tmp_path):
    shots = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tmp_path)
    person = f.UserFactory()
    sign_in_as(page, live_server, person)
    page.goto(live_server.url + "/me/")
    page.get_by_role("link", name="SSH keys for the clusters").click()
    expect(page).to_have_url(re.compile(r"/me/ssh-keys/$"))
    expect(page.get_by_text("You have no SSH keys yet.")).to_be_visible()
    axe_check(page, context="no keys")

    page.get_by_label("Public key").fill("-----BEGIN OPENSSH PRIVATE KEY-----")
    page.get_by_role("button", name="Add key").click()
    expect(page.locator("#id_key")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("main")).to_contain_text("This is a private key: never share it.")
    assert not SshPublicKey.objects.exists()

    page.get_by_label("Public key").fill(f.ssh_key_line("ines@laptop"))
    page.get_by_role("button", name="Add key").click()
    key = SshPublicKey.objects.get(user=person)
    expect(page.get_by_role("status")).to_contain_text(f"Key {key.fingerprint} added.")
    expect(page.get_by_role("cell", name="ines@laptop")).to_be_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        axe_check(page, context=f"keys at {width} px")
        page.screenshot(path=str(shots / f"ssh-keys-{width}.png"), full_page=True)

    page.get_by_role("button", name=f"Remove {key.fingerprint}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Key {key.fingerprint} removed.")
    assert not SshPublicKey.objects.exists()
