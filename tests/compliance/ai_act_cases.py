"""Shared machinery of the AI Act scenario tests: the in-scope baseline, answer presets, and the check
every scenario goes through. Each scenario is written from the legal text: the conclusions it must
reach, those it must not, and the obligations with their dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compliance.ai_act import GPU_PEAK_FLOPS, ComputeInputs, RiskClass, RuleSet, classify, engine, load_ruleset

BOTH = ("2024", "2026-omnibus")
OMNIBUS = ("2026-omnibus",)
V2024 = ("2024",)

# In scope (placed on the Union market by a provider that also deploys it), nothing declared:
# the baseline every scenario overrides.
BASE: dict[str, Any] = {
    "research_only": "no",
    "pre_market_rnd": "no",
    "military_only": "no",
    "union_link": ["placed_in_union"],
    "operator_role": ["provider", "deployer"],
    "public_service_deployer": "no",
    "prohibited_practices": ["none"],
    "intimate_imagery": "no",  # Omnibus only; dropped for 2024 by answers_for()
    "annex_i_product": "no",
    "annex_iii_areas": ["none"],
    "interacts_with_persons": "no",
    "synthetic_content": ["none"],
    "synthetic_content_legacy": "no",  # Omnibus only, asked when the system generates content
    "emotion_biometric_exposure": "no",
    "public_disclosure": ["none"],
    "open_source_system": "no",
    "trains_model": "no",
}
LLM = {"trains_model": "yes", "model_modalities": ["text"], "modifies_gpai_model": "no", "open_weights": "no"}
OPEN_WEIGHTS = {"open_weights": "yes", "open_weights_monetised": "no"}
FINE_TUNE = LLM | {"modifies_gpai_model": "yes", "base_model_compute_known": "yes", "base_model_systemic": "no"}
CHATBOT = {"interacts_with_persons": "yes", "interaction_obvious": "no"}
PUBLIC_TEXT = {"public_disclosure": ["public_interest_text"]}
EMPLOYMENT = {"annex_iii_areas": ["employment"], "annex_iii_4_employment": ["recruitment"],
              "derogation_conditions": ["none"]}
MEDICAL_DEVICE = {"annex_i_product": "yes", "annex_i_section": "section_a", "annex_i_third_party": "yes"}
DEROGATION = {
    "annex_iii_areas": ["employment"],
    "annex_iii_4_employment": ["recruitment"],
    "derogation_conditions": ["narrow_procedural"],
    "no_significant_risk": "yes",
    "profiling": "no",
}


def flop(parameters: int, tokens: int, *, prior: float = 0.0, base: float | None = None) -> ComputeInputs:
    """Architecture-only inputs (no GPU-hours): 6 x N x D, exact for these integer inputs."""
    return ComputeInputs(
        gpu_hours=0, gpu_peak_flops=GPU_PEAK_FLOPS["H100"], parameters=parameters, training_tokens=tokens,
        prior_lineage_flop=prior, base_model_flop=base,
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    answers: Mapping[str, Any]
    classification: RiskClass
    reaches: frozenset[str]
    absent: frozenset[str] = frozenset()
    flags: Mapping[str, bool] = field(default_factory=dict)
    compute: ComputeInputs | None = None
    rulesets: tuple[str, ...] = BOTH
    obligations: Mapping[str, str] = field(default_factory=dict)  # code -> applies_from
    no_obligations: frozenset[str] = frozenset()


def S(name: str, answers: Mapping[str, Any], classification: str, reaches: set[str], **kw: Any) -> Scenario:
    return Scenario(
        name, answers, RiskClass(classification), frozenset(reaches),
        absent=frozenset(kw.pop("absent", ())), no_obligations=frozenset(kw.pop("no_obligations", ())), **kw,
    )


def answers_for(ruleset: RuleSet, overrides: Mapping[str, Any]) -> dict[str, Any]:
    known = {q.id for q in ruleset.questions}
    base = {qid: value for qid, value in BASE.items() if qid in known}
    return base | dict(overrides)


def run(scenario: Scenario, version: str):
    ruleset = load_ruleset(version)
    compute = ruleset.estimate(scenario.compute) if scenario.compute else None
    return classify(ruleset, answers_for(ruleset, scenario.answers), compute)


def check(scenario: Scenario, version: str) -> None:
    """Classify the scenario under ``version`` and assert everything it states."""
    result = run(scenario, version)
    codes = set(result.conclusion_codes)
    assert result.classification == scenario.classification, (codes, result.missing_answers, result.contradictions)
    assert scenario.reaches <= codes, f"missing {scenario.reaches - codes}; got {codes}"
    assert not (scenario.absent & codes), f"unexpected {scenario.absent & codes}"
    for name, value in scenario.flags.items():
        assert result.flags[name] is value, name
    obligations = {o.code: o.applies_from.isoformat() for o in result.obligations}
    for code, applies_from in scenario.obligations.items():
        assert obligations.get(code) == applies_from, (code, obligations)
    assert not (scenario.no_obligations & set(obligations)), scenario.no_obligations & set(obligations)
    # Invariants that hold in every scenario.
    assert result.complete, (result.missing_answers, result.contradictions)
    assert result.flags["needs_ethics_review"] == any(
        c.classification in engine.ETHICS_REVIEW_CLASSES for c in result.conclusions
    )
    for conclusion in result.conclusions:
        assert conclusion.article and conclusion.url.startswith("https://eur-lex.europa.eu/")
