"""In CI (AIF_REQUIRE_SERVICES=1) a single sign-on test without its OpenID provider fails, never skips."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ONE_SSO_TEST = "tests/sso/test_sign_in.py::test_each_sign_in_sends_its_own_nonce_and_state"


def test_without_node_the_sso_tests_fail_when_services_are_required():
    env = {**os.environ, "PATH": "/nonexistent", "AIF_REQUIRE_SERVICES": "1"}  # no node on the PATH
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", ONE_SSO_TEST],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert "SERVICE MISSING: openid-provider: node is not installed" in done.stdout
