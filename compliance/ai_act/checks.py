"""System check: every shipped AI Act rule set must load.

A broken rule set would otherwise only surface when an applicant opens the questionnaire (or an
ethics officer re-evaluates a stored assessment), so ``manage.py check`` and start-up catch it.
Registered by ``compliance.apps.ComplianceConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error

from .engine import DEFAULT_RULESET, RULESET_DIR, RuleSetError, available_rulesets, load_ruleset


def check_rulesets(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    versions = available_rulesets()
    if DEFAULT_RULESET not in versions:
        errors.append(
            Error(
                f"The default AI Act rule set {DEFAULT_RULESET!r} is missing.",
                hint=f"Add {DEFAULT_RULESET}.yaml to {RULESET_DIR} or change DEFAULT_RULESET.",
                id="compliance.E001",
            )
        )
    for version in versions:
        try:
            load_ruleset(version)
        except RuleSetError as exc:
            errors.extend(
                Error(
                    f"AI Act rule set {version!r}: {message}",
                    hint="Fix the YAML file; published versions must stay loadable for re-evaluation.",
                    obj=str(RULESET_DIR / f"{version}.yaml"),
                    id="compliance.E002",
                )
                for message in exc.errors
            )
    return errors
