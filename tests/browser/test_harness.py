"""The harness itself: chromium starts, and axe_check really fails on violations of any impact."""

import pytest

from tests.browser.conftest import axe_check

pytestmark = pytest.mark.browser

BAD_PAGE = """<!DOCTYPE html><html><head><title>bad</title></head><body><main>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<form><input type="text" name="nameless"></form>
</main></body></html>"""

GOOD_PAGE = """<!DOCTYPE html><html lang="en"><head><title>good</title></head><body><main>
<h1>Fine</h1><img alt="A dot" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<form><label for="n">Name</label><input id="n" type="text" name="n"></form>
</main></body></html>"""


def test_axe_check_fails_on_serious_violations(page):
    page.set_content(BAD_PAGE)
    with pytest.raises(pytest.fail.Exception) as excinfo:
        axe_check(page, context="bad page")
    message = str(excinfo.value)
    assert "[critical] image-alt" in message
    assert "label" in message


# Only minor and moderate violations: two landmarks of the same role and name (landmark-unique) and a
# header cell with no text (empty-table-header).
MINOR_PAGE = """<!DOCTYPE html><html lang="en"><head><title>minor</title></head><body><main>
<h1>Minor</h1>
<section aria-labelledby="h"><h2 id="h">Lines</h2>
<div role="region" aria-labelledby="h" tabindex="0"><table><caption>Lines</caption>
<thead><tr><th scope="col">Name</th><th scope="col"></th></tr></thead>
<tbody><tr><td>One</td><td><a href="#">Edit</a></td></tr></tbody></table></div></section>
</main></body></html>"""


def test_axe_check_fails_on_minor_and_moderate_violations(page):
    page.set_content(MINOR_PAGE)
    with pytest.raises(pytest.fail.Exception) as excinfo:
        axe_check(page, context="minor page")
    message = str(excinfo.value)
    assert "landmark-unique" in message
    assert "empty-table-header" in message
    assert "[serious]" not in message and "[critical]" not in message


def test_axe_check_passes_a_clean_page(page):
    page.set_content(GOOD_PAGE)
    assert axe_check(page) == []


# --- the policy watch: a page served with a strict policy, through Playwright's routing -------------

STRICT = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"
INLINE_PAGE = """<!DOCTYPE html><html lang="en"><head><title>inline</title></head><body>
<p style="color: red">styled</p><script>document.title = "ran";</script></body></html>"""
CLEAN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>clean</title></head><body><p>plain</p></body></html>"""


def serve(page, body: str, headers: dict[str, str]) -> None:
    page.route("http://policy.test/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=body, headers=headers))
    page.goto("http://policy.test/")


def test_policy_watch_fails_on_a_violation_even_after_navigating_away(page, policy_watch):
    serve(page, INLINE_PAGE, {"Content-Security-Policy": STRICT})
    assert page.title() == "inline"  # the inline script was refused
    page.goto("about:blank")
    with pytest.raises(pytest.fail.Exception) as excinfo:
        policy_watch.check()
    message = str(excinfo.value)
    assert "script-src-elem refused inline" in message
    assert "style-src-attr refused inline" in message
    policy_watch.reports.clear()  # seen: the test itself passes


def test_policy_watch_reports_an_unknown_permissions_policy_feature(page, policy_watch):
    serve(page, CLEAN_PAGE, {"Permissions-Policy": "camera=(), no-such-feature=()"})
    with pytest.raises(pytest.fail.Exception, match="no-such-feature"):
        policy_watch.check()
    policy_watch.reports.clear()


def test_policy_watch_passes_a_clean_page(page, policy_watch):
    serve(page, CLEAN_PAGE, {"Content-Security-Policy": STRICT, "Permissions-Policy": "camera=()"})
    policy_watch.check()
    assert policy_watch.reports == []
