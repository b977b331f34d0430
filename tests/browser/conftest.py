"""Browser tests: pytest-playwright driving Debian's chromium against pytest-django's live_server.

Every page a journey visits goes through `axe_check`, which fails on any accessibility violation
axe-core finds, whatever its impact (minor, moderate, serious or critical; axe-core is bundled with
axe-playwright-python).

Every page a test opens is also watched for Content-Security-Policy violations (the browser's
`securitypolicyviolation` events, reported to the test as they happen, and its console errors about
the policy or the Permissions-Policy header): a test that passed fails when any was reported."""

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
# Every impact axe-core reports fails the check: a minor violation is still a barrier to someone.
BLOCKING_IMPACTS = {"minor", "moderate", "serious", "critical"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        require_service("chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


# Runs in every document before its own scripts: reports each violation to the test at once, so that
# one on a page the test navigates away from is not lost.
VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__aifReportViolation({
    page: document.location.href, directive: event.effectiveDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample, disposition: event.disposition,
  });
}, true);
"""
# What chromium writes to the console about a policy it refused to apply or something it blocked.
POLICY_CONSOLE_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy",
                          "Permissions policy")


class PolicyWatch:
    """The CSP violations and policy console errors of one browser page, across its navigations."""

    def __init__(self, page):
        self.page = page
        self.reports: list[str] = []
        page.expose_binding("__aifReportViolation", lambda source, report: self._violation(report))
        page.add_init_script(VIOLATION_LISTENER)
        page.on("console", self._console)

    def _violation(self, report: dict) -> None:
        where = f" in {report['source']}:{report['line']}" if report.get("source") else ""
        sample = f" ({report['sample']!r})" if report.get("sample") else ""
        self.reports.append(f"{report['page']}: {report['directive']} refused {report['blocked'] or 'inline'}"
                            f"{where}{sample} [{report['disposition']}]")

    def _console(self, message) -> None:
        if message.type in ("error", "warning") and any(m in message.text for m in POLICY_CONSOLE_MARKERS):
            self.reports.append(f"console {message.type} on {self.page.url}: {message.text}")

    def check(self) -> None:
        """Fail when anything was reported (after letting the page deliver what it still holds)."""
        if not self.page.is_closed():
            self.page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 50))")
        if self.reports:
            pytest.fail("Content-Security-Policy or Permissions-Policy problems:\n" + "\n".join(self.reports),
                        pytrace=False)


@pytest.fixture
def page(page):
    page.set_default_timeout(15_000)
    page._aif_policy_watch = PolicyWatch(page)
    return page


@pytest.fixture
def policy_watch(page) -> PolicyWatch:
    return page._aif_policy_watch


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a browser test's own body passed: fail it if its pages reported a policy problem."""
    result = yield
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    watch = getattr(page, "_aif_policy_watch", None)
    if watch is not None:
        watch.check()
    return result


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


def axe_violations(page) -> list[dict]:
    """Run axe-core on the current page; every violation it finds, whatever its impact."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, which the page's script-src does not govern
        # (an added <script> element would be refused, and reported, under the portal's policy).
        page.evaluate(_axe_source())
    return page.evaluate("async () => await axe.run()")["violations"]


def blocking_violations(violations: list[dict]) -> list[dict]:
    """The violations that fail a test: those of a blocking impact (every impact axe-core has), and any
    without a known impact."""
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS or v.get("impact") is None]


def axe_check(page, *, context: str = "") -> list[dict]:
    """Run axe-core on the current page; fail on any violation of a blocking impact (every impact).

    Returns the violations found (none when it returns) for tests that want to look closer."""
    violations = axe_violations(page)
    blocking = blocking_violations(violations)
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
