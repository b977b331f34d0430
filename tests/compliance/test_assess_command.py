"""`manage.py assess_ai_act`: JSON in, JSON out, clear errors, exit status 3 without a conclusion.
No database needed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]

ANSWERS = {
    "research_only": "no",
    "pre_market_rnd": "no",
    "military_only": "no",
    "union_link": ["placed_in_union"],
    "operator_role": ["provider"],
    "prohibited_practices": ["none"],
    "annex_i_product": "no",
    "annex_iii_areas": ["none"],
    "interacts_with_persons": "yes",
    "interaction_obvious": "no",
    "synthetic_content": ["text"],
    "emotion_biometric_exposure": "no",
    "public_disclosure": ["none"],
    "open_source_system": "no",
    "trains_model": "yes",
    "model_modalities": ["text"],
    "modifies_gpai_model": "no",
    "open_weights": "yes",
    "open_weights_monetised": "no",
}
TRAINING = {"gpu_hours": 200_000, "gpu_model": "H100", "parameters": 7_000_000_000,
            "training_tokens": 2_000_000_000_000}


def write(tmp_path: Path, payload: Any) -> Path:
    path = tmp_path / "case.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
    return path


def run(tmp_path: Path, payload: Any, *args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("assess_ai_act", "--answers", str(write(tmp_path, payload)), *args, stdout=out)
    return json.loads(out.getvalue())


def run_incomplete(tmp_path: Path, payload: Any, *args: str) -> tuple[dict[str, Any], str]:
    """The JSON printed and the error raised for a result without a conclusion (exit status 3)."""
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("assess_ai_act", "--answers", str(write(tmp_path, payload)), *args, stdout=out)
    assert excinfo.value.returncode == 3
    return json.loads(out.getvalue()), str(excinfo.value)


def test_answers_with_compute(tmp_path: Path):
    omnibus = {"intimate_imagery": "no", "synthetic_content_legacy": "no"}  # questions the 2024 text lacks
    payload = {"answers": ANSWERS | omnibus, "compute": TRAINING | {"prior_lineage_flop": 0}}
    result = run(tmp_path, payload)
    assert result["ruleset"] == "2026-omnibus"
    assert result["classification"] == "gpai"
    assert result["flags"]["gpai"] is True and result["flags"]["needs_ethics_review"] is True
    assert result["compute"]["hardware_flop"] == pytest.approx(200_000 * 3600 * 989e12 * 0.4)
    assert [w["code"] for w in result["compute"]["warnings"]] == ["gpai_threshold"]
    codes = [c["code"] for c in result["conclusions"]]
    assert codes == [
        "transparency_art50_1", "transparency_art50_2", "gpai_model", "gpai_open_source_exemption"
    ]


def test_bare_answers_other_ruleset_and_language(tmp_path: Path):
    result = run(tmp_path, ANSWERS | {"trains_model": "no"}, "--ruleset", "2024", "--language", "fr")
    assert result["ruleset"] == "2024"
    assert result["compute"] is None
    assert result["classification"] == "transparency"
    assert result["conclusions"][0]["title"].startswith("Transparence")


def test_the_architecture_estimate_alone_is_enough(tmp_path: Path):
    # 6 x 7e9 parameters x 2e12 tokens = 8.4e22 FLOP, no GPU-hours: as the portal accepts it.
    payload = {"answers": ANSWERS, "compute": {"parameters": 7_000_000_000, "training_tokens": 2_000_000_000_000}}
    result = run(tmp_path, payload, "--ruleset", "2024")
    assert result["complete"] is True
    assert result["compute"]["hardware_flop"] == 0
    assert result["compute"]["estimate_flop"] == pytest.approx(8.4e22)
    assert result["classification"] == "transparency"  # under 1e23 FLOP: not a general-purpose AI model


def test_incomplete_answers_print_a_result_and_exit_with_status_3(tmp_path: Path):
    result, message = run_incomplete(tmp_path, {"answers": {"research_only": "no"}})
    assert result["complete"] is False and result["classification"] == "incomplete"
    assert result["conclusions"] == [] and result["obligations"] == []
    assert result["missing_answers"][:2] == ["pre_market_rnd", "military_only"]
    assert "missing pre_market_rnd: Is the project research, testing or development" in message


def test_an_empty_answers_file_concludes_nothing(tmp_path: Path):
    result, message = run_incomplete(tmp_path, {}, "--ruleset", "2024")
    assert result["classification"] == "incomplete"
    assert result["missing_answers"] == ["research_only", "prohibited_practices"]
    assert "no conclusion" in message


def test_training_without_compute_is_incomplete(tmp_path: Path):
    result, message = run_incomplete(tmp_path, {"answers": ANSWERS}, "--ruleset", "2024")
    assert result["missing_answers"] == ["training_compute"]
    assert "missing training_compute: The training compute of the project" in message


def test_declared_training_contradicts_an_answer_of_no_training(tmp_path: Path):
    payload = {"answers": ANSWERS | {"trains_model": "no"}, "compute": TRAINING}
    result, message = run_incomplete(tmp_path, payload, "--ruleset", "2024")
    assert [c["code"] for c in result["contradictions"]] == ["training_answer_contradicts_declaration"]
    assert "contradiction training_answer_contradicts_declaration" in message
    assert result["classification"] == "incomplete"


def test_the_largest_figures_accepted_stay_finite(tmp_path: Path):
    # Every bound at once: the products must stay finite numbers, which strict JSON can carry.
    compute = {"gpu_hours": 1e12, "gpu_peak_flops": 1e18, "utilisation": 1, "parameters": 10**19,
               "training_tokens": 10**19, "prior_lineage_flop": 1e45}
    result = run(tmp_path, {"answers": ANSWERS, "compute": compute}, "--ruleset", "2024")
    figures = [value for value in result["compute"].values() if isinstance(value, float)]
    assert figures and all(math.isfinite(value) for value in figures)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ({"answers": [], "compute": None}, "'answers' must be a JSON object"),
        ({"answers": {}, "extra": 1}, "unexpected top-level keys ['extra']"),
        ({"answers": {"research_only": "perhaps"}}, "research_only: expected 'yes' or 'no'"),
        # run with --ruleset 2024, which has no Omnibus question
        ({"answers": {"intimate_imagery": "no"}}, "intimate_imagery: unknown question"),
        ({"answers": {}, "compute": {"gpu_hours": 10, "gpu_model": "TPUv9"}}, "unknown gpu_model 'TPUv9'"),
        ({"answers": {}, "compute": {"gpu_hours": 1, "gpu_model": "A100", "x": 1}}, "unknown compute keys"),
        ({"answers": {}, "compute": {"gpu_model": "H100"}}, "needs gpu_hours"),
        ({"answers": {}, "compute": {"gpu_hours": -5, "gpu_model": "H100"}}, "invalid compute figures"),
        # numbers are bounded: no product may overflow to infinity
        ({"answers": {}, "compute": {"gpu_hours": 1e300, "gpu_model": "H100"}}, "gpu_hours must be at most 1e+12"),
        ({"answers": {}, "compute": {"parameters": 10**30, "training_tokens": 10}}, "parameters must be at most"),
        ({"answers": {}, "compute": {"gpu_hours": 10, "gpu_model": "H100", "base_model_flop": 1e300}},
         "base_model_flop must be at most"),
        ({"answers": {}, "compute": {"gpu_hours": 10}}, "gpu_hours needs a gpu_model"),
        ({"answers": {}, "compute": {"parameters": 10**9}}, "or parameters and training_tokens"),
    ],
)
def test_bad_files(tmp_path: Path, payload: Any, message: str):
    with pytest.raises(CommandError) as excinfo:
        run(tmp_path, payload, "--ruleset", "2024")
    assert message in str(excinfo.value)


def test_missing_file(tmp_path: Path):
    with pytest.raises(CommandError, match="answers file not found"):
        call_command("assess_ai_act", "--answers", str(tmp_path / "nope.json"), stdout=StringIO())


def test_unknown_ruleset(tmp_path: Path):
    with pytest.raises(CommandError, match="unknown rule set '2019'"):
        run(tmp_path, ANSWERS, "--ruleset", "2019")


def test_exit_status_is_non_zero_from_the_shell(tmp_path: Path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    done = subprocess.run(
        [sys.executable, "manage.py", "assess_ai_act", "--answers", str(tmp_path / "nope.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "answers file not found" in done.stderr
