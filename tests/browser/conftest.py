"""Browser tests: pytest-playwright driving Debian's chromium against pytest-django's live_server.

Every page a journey visits goes through `axe_check`, which fails on serious or critical
accessibility violations (axe-core, bundled with axe-playwright-python)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import axe_playwright_python
import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import require_service

# Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is deliberate. Set before any test runs.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("AIF_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        require_service("chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def page(page):
    page.set_default_timeout(15_000)
    return page


@cache
def _axe_source() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                   for node in violation["nodes"][:5]]
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} "
                     f"({violation['helpUrl']}) on {', '.join(targets)}")
    return "\n".join(lines)


def axe_check(page, *, context: str = "") -> list[dict]:
    """Run axe-core on the current page; fail on any serious or critical violation.

    Returns every violation (minor and moderate included) for tests that want to look closer."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_axe_source())
    results = page.evaluate("async () => await axe.run()")
    violations = results["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        where = context or page.url
        pytest.fail(f"accessibility violations on {where}:\n{format_violations(blocking)}", pytrace=False)
    return violations


def sign_in_as(page, live_server, user):
    """A session with every login stage done (password and MFA), as the browser's cookie."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])


@pytest.fixture
def axe():
    return axe_check
