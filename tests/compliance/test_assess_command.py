"""`manage.py assess_ai_act`: JSON in, JSON out, clear errors. No database needed."""

from __future__ import annotations

import json
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
    "prohibited_practices": ["none"],
    "annex_i_product": "no",
    "annex_iii_areas": ["none"],
    "interacts_with_persons": "yes",
    "interaction_obvious": "no",
    "synthetic_content": ["text"],
    "emotion_biometric_exposure": "no",
    "public_disclosure": ["none"],
    "trains_model": "yes",
    "model_modalities": ["text"],
    "modifies_gpai_model": "no",
    "open_weights": "yes",
}


def run(tmp_path: Path, payload: Any, *args: str) -> dict[str, Any]:
    path = tmp_path / "case.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
    out = StringIO()
    call_command("assess_ai_act", "--answers", str(path), *args, stdout=out)
    return json.loads(out.getvalue())


def test_answers_with_compute(tmp_path: Path):
    payload = {
        "answers": ANSWERS | {"intimate_imagery": "no"},
        "compute": {"gpu_hours": 200_000, "gpu_model": "H100", "parameters": 7_000_000_000,
                    "training_tokens": 2_000_000_000_000, "prior_lineage_flop": 0},
    }
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
    result = run(tmp_path, ANSWERS, "--ruleset", "2024", "--language", "fr")
    assert result["ruleset"] == "2024"
    assert result["compute"] is None
    assert result["classification"] == "transparency"  # no compute: the LLM cannot be judged GPAI
    assert result["conclusions"][0]["title"].startswith("Transparence")


def test_incomplete_answers_still_print_a_result(tmp_path: Path):
    result = run(tmp_path, {"answers": {"research_only": "no"}})
    assert result["complete"] is False
    assert "pre_market_rnd" in result["missing_answers"]


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
