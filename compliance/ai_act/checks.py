"""System checks: every shipped AI Act rule set must load, and every GPU type a site may declare must
have a peak figure for the training-compute estimate.

A broken rule set would otherwise only surface when an applicant opens the questionnaire (or an
ethics officer re-evaluates a stored assessment), and a GPU type without a peak figure when an
assessment cannot conclude, so ``manage.py check`` and start-up catch both.
Registered by ``compliance.apps.ComplianceConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error

from .compute import GPU_DATA_FILE, GPU_PEAK_FLOPS
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


def check_gpu_peaks(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    # Django's app loading: the catalogue's models exist only once the apps are ready, which they are
    # when checks run.
    from allocations.catalogue.models import GpuModel

    return [
        Error(
            f"GPU type {model!r} has no peak figure for the AI Act training-compute estimate.",
            hint=f"Add its dense BF16 peak in FLOP/s, with its source, to {GPU_DATA_FILE}.",
            obj=str(GPU_DATA_FILE),
            id="compliance.E003",
        )
        for model in GpuModel.values
        if model not in GPU_PEAK_FLOPS
    ]
