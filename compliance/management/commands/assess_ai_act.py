"""Run the AI Act classifier on a JSON file, outside any application (audits, rule-set reviews).

    python manage.py assess_ai_act --answers case.json [--ruleset 2024] [--language fr]

The file holds ``{"answers": {...}, "compute": {...}}`` (compute optional) or a bare answers
mapping. Compute keys: gpu_hours with gpu_model (one of GPU_PEAK_FLOPS) or gpu_peak_flops,
utilisation, parameters, training_tokens, base_model_flop, prior_lineage_flop. The architecture
estimate alone (parameters and training_tokens, no GPU-hours) is enough. A model size, training
tokens or a base model's compute declare training, which the answers must not deny.

The result is printed as JSON in every case. The exit status is 0 for a conclusion and 3 for an
incomplete result (unanswered questions, missing inputs or contradictory answers, listed on
stderr); invalid input is an error (status 1) and prints nothing on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.ai_act import (
    DEFAULT_RULESET,
    GPU_PEAK_FLOPS,
    LANGUAGES,
    AnswerError,
    ComputeEstimate,
    ComputeInputs,
    RuleSet,
    RuleSetError,
    available_rulesets,
    classify,
    load_ruleset,
)

#: Exit status of an assessment that cannot conclude yet.
INCOMPLETE_STATUS = 3

_COMPUTE_KEYS = frozenset(
    {
        "gpu_hours",
        "gpu_model",
        "gpu_peak_flops",
        "utilisation",
        "parameters",
        "training_tokens",
        "base_model_flop",
        "prior_lineage_flop",
    }
)


class Command(BaseCommand):
    help = "Classify AI Act questionnaire answers from a JSON file and print the result as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--answers", required=True, metavar="FILE.json", help="answers (and optional compute) file"
        )
        parser.add_argument(
            "--ruleset",
            default=DEFAULT_RULESET,
            help=f"rule-set version (default {DEFAULT_RULESET}; one of {', '.join(available_rulesets())})",
        )
        parser.add_argument("--language", default="en", choices=LANGUAGES, help="language of the texts")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ruleset = load_ruleset(options["ruleset"])
        except RuleSetError as exc:
            raise CommandError(str(exc)) from exc
        answers, compute_data = _read(Path(options["answers"]))
        compute = _compute(ruleset, compute_data) if compute_data is not None else None
        try:
            result = classify(ruleset, answers, compute, language=options["language"],
                              facts=_facts(compute_data or {}))
        except AnswerError as exc:
            details = "\n".join(f"  {qid}: {message}" for qid, message in exc.errors.items())
            raise CommandError(f"invalid answers for rule set {ruleset.version}:\n{details}") from exc
        # allow_nan=False: the bounds on the inputs keep every figure finite, and JSON has no Infinity.
        self.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
        if not result.complete:
            lines = [f"  missing {m.code}: {m.text}" for m in result.missing]
            lines += [f"  contradiction {c.code}: {c.text}" for c in result.contradictions]
            raise CommandError("no conclusion: the answers are incomplete or contradictory\n" + "\n".join(lines),
                               returncode=INCOMPLETE_STATUS)


def _read(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CommandError(f"answers file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold a JSON object, got {type(data).__name__}")
    if "answers" not in data:  # a bare answers mapping
        return data, None
    extra = sorted(set(data) - {"answers", "compute"})
    if extra:
        raise CommandError(f"{path}: unexpected top-level keys {extra} (expected 'answers' and 'compute')")
    answers, compute = data["answers"], data.get("compute")
    if not isinstance(answers, dict):
        raise CommandError(f"{path}: 'answers' must be a JSON object")
    if compute is not None and not isinstance(compute, dict):
        raise CommandError(f"{path}: 'compute' must be a JSON object or null")
    return answers, compute


def _facts(data: dict[str, Any]) -> frozenset[str]:
    """A model size with training tokens, or a base model's compute, declares training."""
    if (data.get("parameters") and data.get("training_tokens")) or data.get("base_model_flop"):
        return frozenset({"training_declared"})
    return frozenset()


def _compute(ruleset: RuleSet, data: dict[str, Any]) -> ComputeEstimate:
    unknown = sorted(set(data) - _COMPUTE_KEYS)
    if unknown:
        raise CommandError(f"unknown compute keys {unknown} (known: {', '.join(sorted(_COMPUTE_KEYS))})")
    values = dict(data)
    model = values.pop("gpu_model", None)
    if model is not None and "gpu_peak_flops" in values:
        raise CommandError("give either gpu_model or gpu_peak_flops, not both")
    if model is not None:
        if model not in GPU_PEAK_FLOPS:
            raise CommandError(f"unknown gpu_model {model!r} (known: {', '.join(GPU_PEAK_FLOPS)})")
        values["gpu_peak_flops"] = GPU_PEAK_FLOPS[model]
    if "gpu_hours" in values and "gpu_peak_flops" not in values:
        raise CommandError("gpu_hours needs a gpu_model (or gpu_peak_flops)")
    if "gpu_hours" not in values:
        if values.get("parameters") is None or values.get("training_tokens") is None:
            raise CommandError("compute needs gpu_hours with a gpu_model (or gpu_peak_flops), "
                               "or parameters and training_tokens")
        if "gpu_peak_flops" in values:
            raise CommandError("a gpu_model (or gpu_peak_flops) needs gpu_hours")
        values["gpu_hours"], values["gpu_peak_flops"] = 0.0, 0.0  # the architecture estimate alone
    try:
        return ruleset.estimate(ComputeInputs(**values))
    except (TypeError, ValueError) as exc:
        raise CommandError(f"invalid compute figures: {exc}") from exc
