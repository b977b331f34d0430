"""The harness itself: chromium starts, and axe_check really fails on serious violations."""

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


def test_axe_check_passes_a_clean_page(page):
    page.set_content(GOOD_PAGE)
    assert all(v["impact"] not in {"serious", "critical"} for v in axe_check(page))
