"""A person secures their account: an authenticator app (its QR code is a data: image), recovery
codes, then a security key through chromium's virtual authenticator (WebAuthn, driven by allauth's
scripts); then signs in again with the key. Every page runs under the portal's Content-Security-Policy
and Permissions-Policy, with no violation, and passes axe."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from playwright.sync_api import expect

from tests.browser.conftest import axe_check
from tests.factories import DEFAULT_PASSWORD, UserFactory, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def virtual_authenticator(page) -> str:
    """A platform-independent CTAP2 security key that says yes to every request (Chromium DevTools)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    return cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})["authenticatorId"]


def sign_in_with_password(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").first.click()


def confirm_password_if_asked(page):
    """allauth asks for the password again before a change to the account's security."""
    if "/accounts/reauthenticate/" in page.url:
        axe_check(page, context="reauthenticate with the password")
        page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
        page.locator("main form button[type=submit]").first.click()


def test_authenticator_app_recovery_codes_and_security_key(page, live_server):
    user = UserFactory()
    virtual_authenticator(page)
    sign_in_with_password(page, live_server, user)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # The Security page -> activate an authenticator app: the QR code is an <img src="data:...">.
    page.get_by_role("link", name="Security").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    axe_check(page, context="security page")
    page.locator("a[href='/accounts/2fa/totp/activate/']").click()
    confirm_password_if_asked(page)
    qr = page.locator("main img").first
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml;base64,"))
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())  # it loaded
    axe_check(page, context="activate TOTP")
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main form button[type=submit]").click()
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert decrypt(totp.data["secret"]) == secret

    # Recovery codes: allauth's recovery_codes.js selects (and copies) them on a click.
    page.goto(live_server.url + "/accounts/2fa/recovery-codes/")
    codes = page.locator("#recovery_codes")
    expect(codes).to_be_visible()
    axe_check(page, context="recovery codes")
    codes.click()
    assert page.evaluate("""() => {
        const area = document.activeElement;
        return area.id === "recovery_codes" && area.selectionStart === 0 && area.selectionEnd === area.value.length;
    }""")

    # A security key: allauth's webauthn.js asks the (virtual) authenticator and posts the credential.
    page.goto(live_server.url + "/accounts/2fa/webauthn/add/")
    axe_check(page, context="add a security key")
    page.locator("input[name=name]").fill("Desk key")
    page.locator("#mfa_webauthn_add").click()
    expect(page).not_to_have_url(re.compile(r"/webauthn/add/$"))
    key = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    page.goto(live_server.url + "/accounts/2fa/webauthn/")
    expect(page.get_by_text("Desk key")).to_be_visible()
    axe_check(page, context="security keys")

    # Reauthentication with the key (the page a sensitive change asks for).
    page.goto(live_server.url + "/accounts/2fa/webauthn/reauthenticate/")
    axe_check(page, context="reauthenticate with a key")
    page.locator("#mfa_webauthn_reauthenticate").click()
    expect(page).not_to_have_url(re.compile(r"/reauthenticate/$"))

    # Sign out, and in again: password, then the security key instead of a code.
    page.get_by_role("button", name="Sign out").click()
    sign_in_with_password(page, live_server, user)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    axe_check(page, context="second factor with a key")
    page.locator("#mfa_webauthn_authenticate").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    key.refresh_from_db()
    assert key.data["credential"]  # the stored credential the virtual key just signed for
    assert key.last_used_at is not None
