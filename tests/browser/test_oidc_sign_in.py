"""Single sign-on under the Content-Security-Policy: the OIDC sign-in is a form posted to the portal,
answered with a redirect to the issuer, and browsers check every redirect after a form's submission
against form-action. The issuer's origin is in it (portal/settings.py), and AIF_CSP_FORM_ACTION adds
the origin of a further hop; without it chromium refuses that hop."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import local_oidc_issuer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def use_settings(settings, namespace: dict) -> None:
    """The OIDC provider and the policy as portal/settings.py builds them from the environment."""
    settings.SOCIALACCOUNT_PROVIDERS = namespace["SOCIALACCOUNT_PROVIDERS"]
    settings.CONTENT_SECURITY_POLICY = namespace["CONTENT_SECURITY_POLICY"]


def start_single_sign_on(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="MyAccessID").click()
    expect(page).to_have_url(re.compile(r"/accounts/oidc/myaccessid/login/"))
    page.locator("main form button[type=submit]").click()


def oidc_env(issuer_url: str, **more) -> dict[str, str]:
    return {"OIDC_CLIENT_ID": "aif-portal", "OIDC_CLIENT_SECRET": "s3cret", "OIDC_SERVER_URL": issuer_url, **more}


def test_sign_in_form_reaches_the_issuer(page, live_server, settings, settings_from_env):
    with local_oidc_issuer() as (issuer, issuer_url):
        use_settings(settings, settings_from_env(**oidc_env(issuer_url)))
        start_single_sign_on(page, live_server)
        expect(page).to_have_url(re.compile(rf"^{re.escape(issuer_url)}/protocol/openid-connect/auth\?"),
                                 timeout=15_000)
        expect(page).to_have_title("Issuer sign-in")


def test_a_further_hop_needs_its_origin_in_aif_csp_form_action(page, live_server, settings, settings_from_env,
                                                                policy_watch):
    with local_oidc_issuer() as (home, _), local_oidc_issuer(
            next_hop=f"http://127.0.0.1:{home.server_port}/sign-in") as (issuer, issuer_url):
        # Without the variable: the issuer is reached, its redirect onwards is refused.
        use_settings(settings, settings_from_env(**oidc_env(issuer_url)))
        start_single_sign_on(page, live_server)
        # chromium reports the refusal twice (the page's event, the console): wait for both before
        # forgetting them, so that neither arrives after and fails the test.
        for _ in range(100):
            if sum("form-action" in report for report in policy_watch.reports) >= 2:
                break
            page.wait_for_timeout(100)
        assert any("form-action" in report for report in policy_watch.reports), policy_watch.reports
        assert page.url.startswith(live_server.url + "/accounts/oidc/myaccessid/login/")
        assert home.hits == []
        policy_watch.reports.clear()

        # With it, the hop goes through.
        use_settings(settings, settings_from_env(**oidc_env(
            issuer_url, AIF_CSP_FORM_ACTION=f"http://127.0.0.1:{home.server_port}")))
        start_single_sign_on(page, live_server)
        expect(page).to_have_url(f"http://127.0.0.1:{home.server_port}/sign-in", timeout=15_000)
        assert home.hits[0] == "/sign-in"
