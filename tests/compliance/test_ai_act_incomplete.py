"""No conclusion from incomplete or contradictory answers.

While a question of the path is unanswered, an input the path needs is missing, or answers
contradict each other, the result is "incomplete": no conclusion, no obligation, no flag, and a list
of what is missing and which answers contradict each other, by name.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from compliance.ai_act import ComputeInputs, RiskClass, classify, load_ruleset

from .ai_act_cases import BOTH, FINE_TUNE, LLM, answers_for, flop

EMOTION_AT_WORK = {"annex_iii_areas": ["biometrics"], "annex_iii_1_biometrics": ["emotion"],
                   "biometrics_law_enforcement": "no", "derogation_conditions": ["none"]}


def result_of(version: str, overrides: dict[str, Any], *, compute: ComputeInputs | None = None,
              facts: tuple[str, ...] = (), base: bool = True):
    ruleset = load_ruleset(version)
    answers = answers_for(ruleset, overrides) if base else overrides
    return classify(ruleset, answers, ruleset.estimate(compute) if compute else None, facts=facts)


def assert_no_conclusion(result) -> None:
    assert result.classification == RiskClass.INCOMPLETE
    assert not result.complete
    assert result.conclusions == () and result.obligations == ()
    assert not any(result.flags.values())
    assert result.to_dict()["classification"] == "incomplete"


@pytest.mark.parametrize("version", BOTH)
def test_an_empty_answer_set_concludes_nothing(version: str):
    result = result_of(version, {}, base=False)
    assert_no_conclusion(result)
    always_asked = [q.id for q in load_ruleset(version).questions if q.show_if is None]
    assert list(result.missing_answers) == always_asked
    assert [m.text for m in result.missing] == [load_ruleset(version).question(q).text["en"] for q in always_asked]


def test_missing_questions_follow_the_path():
    result = result_of("2024", {"research_only": "no", "prohibited_practices": ["none"]}, base=False)
    assert_no_conclusion(result)
    assert result.missing_answers == ("pre_market_rnd", "military_only")  # nothing further down is asked yet
    result = result_of("2024", {"research_only": "no", "pre_market_rnd": "no", "military_only": "no",
                                "union_link": ["placed_in_union"], "prohibited_practices": ["none"]}, base=False)
    assert result.missing_answers[:3] == ("operator_role", "annex_i_product", "annex_iii_areas")


def test_training_without_compute_is_missing_an_input():
    result = result_of("2026-omnibus", LLM)
    assert_no_conclusion(result)
    assert result.missing_answers == ("training_compute",)
    assert "GPU-hours" in result.missing[0].text


def test_known_base_model_compute_must_be_declared():
    result = result_of("2026-omnibus", FINE_TUNE, compute=flop(8 * 10**9, 2 * 10**12))
    assert_no_conclusion(result)
    assert result.missing_answers == ("base_model_compute",)


def test_unknown_base_model_compute_needs_to_know_if_the_base_has_systemic_risk():
    result = result_of("2024", FINE_TUNE | {"base_model_compute_known": "no", "base_model_systemic": None},
                       compute=flop(8 * 10**9, 2 * 10**12))
    assert_no_conclusion(result)
    assert result.missing_answers == ("base_model_systemic",)


def test_an_unfinished_derogation_is_missing_its_follow_up():
    result = result_of("2024", {"annex_iii_areas": ["employment"], "annex_iii_4_employment": ["recruitment"],
                                "derogation_conditions": ["preparatory"]})
    assert_no_conclusion(result)
    assert result.missing_answers == ("no_significant_risk",)


CONTRADICTIONS = [
    pytest.param(FINE_TUNE | {"base_model_compute_known": "no"}, flop(8 * 10**9, 2 * 10**12, base=3e23), (),
                 "base_model_compute_declared_unknown", id="base-compute-unknown-yet-declared"),
    pytest.param({"trains_model": "no"}, None, ("training_declared",), "training_answer_contradicts_declaration",
                 id="no-training-yet-training-declared"),
    pytest.param(LLM, flop(10**9, 10**12), ("no_training_declared",), "training_answer_contradicts_declaration",
                 id="training-yet-inference-declared"),
    pytest.param(EMOTION_AT_WORK | {"emotion_biometric_exposure": "no"}, None, (), "biometric_use_denied",
                 id="emotion-recognition-denied"),
    pytest.param({"prohibited_practices": ["emotion_workplace"], "emotion_biometric_exposure": "no"}, None, (),
                 "biometric_use_denied", id="prohibited-emotion-recognition-denied"),
    pytest.param({"public_disclosure": ["deepfake"], "synthetic_content": ["text"]}, None, (),
                 "deepfakes_without_synthetic_media", id="deepfakes-without-synthetic-media"),
]


@pytest.mark.parametrize(("overrides", "compute", "facts", "code"), CONTRADICTIONS)
@pytest.mark.parametrize("version", BOTH)
def test_contradictions_are_reported_by_name(version, overrides, compute, facts, code):
    result = result_of(version, overrides, compute=compute, facts=facts)
    assert_no_conclusion(result)
    assert result.missing_answers == ()
    assert [c.code for c in result.contradictions] == [code]
    assert result.contradictions[0].text


def test_every_contradiction_is_listed_at_once_in_the_readers_language():
    ruleset = load_ruleset("2026-omnibus")
    answers = answers_for(ruleset, EMOTION_AT_WORK | {"emotion_biometric_exposure": "no", "trains_model": "no",
                                                      "public_disclosure": ["deepfake"]})
    result = classify(ruleset, answers, facts={"training_declared"}, language="nl")
    assert_no_conclusion(result)
    assert [c.code for c in result.contradictions] == [
        "training_answer_contradicts_declaration", "biometric_use_denied", "deepfakes_without_synthetic_media"]
    assert "deepfakes" in result.contradictions[2].text and "genereert" in result.contradictions[2].text
    assert [c["code"] for c in result.to_dict()["contradictions"]] == [c.code for c in result.contradictions]


def test_consistent_declarations_are_no_contradiction():
    result = result_of("2024", LLM, compute=flop(10**9, 10**12), facts=("training_declared",))
    assert result.complete and result.classification == RiskClass.MINIMAL


def test_unknown_facts_are_refused():
    with pytest.raises(ValueError, match="unknown facts"):
        classify(load_ruleset(), {}, facts={"trains_in_secret"})


@pytest.mark.parametrize(
    "kwargs",
    [{"gpu_hours": 1e300}, {"gpu_hours": math.inf}, {"gpu_peak_flops": 1e300}, {"parameters": 10**25},
     {"training_tokens": 10**25}, {"base_model_flop": 1e300}, {"prior_lineage_flop": math.inf}],
)
def test_figures_are_bounded(kwargs: dict[str, Any]):
    with pytest.raises(ValueError, match="must be"):
        ComputeInputs(**{"gpu_hours": 1.0, "gpu_peak_flops": 989e12, **kwargs})
