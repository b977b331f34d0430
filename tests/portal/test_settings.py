"""Production settings: `manage.py check --deploy` is clean with the production variables set."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "portal.aifactory.example,aifactory.example",
    "PORTAL_BASE_URL": "https://portal.aifactory.example",
    "SECURE_SSL_REDIRECT": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "AIF_OPERATOR_NAME": "Example Supercomputing Centre",
    "AIF_CONTACT_EMAIL": "contact@portal.aifactory.example",
    "AIF_PRIVACY_EMAIL": "dpo@portal.aifactory.example",
    "AIF_ACCESSIBILITY_EMAIL": "accessibility@portal.aifactory.example",
}


def check_deploy(**env) -> subprocess.CompletedProcess:
    """Run the check in a fresh interpreter: settings are read from the environment at start-up."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "DATABASE_URL") if key in os.environ}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=REPO, env=base | env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def production_check():
    return check_deploy(**PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(64))


def test_check_deploy_is_clean_with_production_variables(production_check):
    output = production_check.stdout + production_check.stderr
    assert production_check.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output and "security.W" not in output, output


@pytest.mark.parametrize(
    ("override", "warning"),
    [
        ({"DEBUG": "1"}, "security.W018"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SESSION_COOKIE_SECURE": "0"}, "security.W012"),
        ({"SECRET_KEY": None}, "security.W009"),  # the built-in development key is refused
        ({"AIF_OPERATOR_NAME": None}, "portal.W006"),  # the public pages would name a placeholder
    ],
)
def test_check_deploy_flags_a_missing_production_variable(override, warning):
    """The clean run above means something: drop one variable and the check complains."""
    env = {**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(64), **override}
    env = {key: value for key, value in env.items() if value is not None}
    done = check_deploy(**env)
    assert warning in done.stdout + done.stderr
