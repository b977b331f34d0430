"""The AI Act classifier against named scenarios, on both rule sets.

Pure tests: no database, no Django settings. Each scenario lists the conclusions it must reach
(and, where the point of the scenario is an absence, the ones it must not); together they must
reach every conclusion code of every rule set (``test_every_conclusion_code_is_reached``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from compliance.ai_act import (
    GPU_PEAK_FLOPS,
    AnswerError,
    ComputeEstimate,
    ComputeInputs,
    RiskClass,
    UnknownRuleSetError,
    available_rulesets,
    classify,
    clean_answers,
    engine,
    estimate_compute,
    load_ruleset,
    missing_answers,
    visible_questions,
)

from . import test_ai_act_annex_iii, test_ai_act_modifiers, test_ai_act_omnibus, test_ai_act_scope_roles
from .ai_act_cases import (
    BOTH,
    CHATBOT,
    DEROGATION,
    EMPLOYMENT,
    FINE_TUNE,
    LLM,
    MEDICAL_DEVICE,
    OMNIBUS,
    OPEN_WEIGHTS,
    PUBLIC_TEXT,
    V2024,
    S,
    Scenario,
    answers_for,
    check,
    flop,
    run,
)

# Emotion recognition and biometric categorisation are also what Art. 50(3) asks about: a consistent
# answer set says yes there too (the contradiction is tested in test_ai_act_incomplete).
BIOMETRIC_USE = {letter: {"emotion_biometric_exposure": "yes"} for letter in ("f", "g")}

PROHIBITED_OPTIONS = {
    "a": "manipulation", "b": "exploitation", "c": "social_scoring", "d": "crime_prediction",
    "e": "facial_scraping", "f": "emotion_workplace", "g": "biometric_categorisation", "h": "realtime_rbi",
}

SCENARIOS: list[Scenario] = [
    # --- scope --------------------------------------------------------------------------------
    S("research_only", {"research_only": "yes"}, "out_of_scope", {"out_of_scope_research"},
      absent={"minimal_risk", "route_to_market_note"},
      flags={"needs_ethics_review": False, "prohibited": False}, no_obligations={"art4_ai_literacy"}),
    S("research_only_but_prohibited", {"research_only": "yes", "prohibited_practices": ["emotion_workplace"]},
      "prohibited", {"out_of_scope_research", "prohibited_art5_1f"},
      flags={"prohibited": True, "needs_ethics_review": True}),
    S("pre_market_rnd_minimal_product",
      {"pre_market_rnd": "yes", "real_world_testing": "no", "route_to_market": "own_product"},
      "out_of_scope", {"out_of_scope_pre_market", "route_to_market_note"}, absent={"minimal_risk"},
      flags={"needs_ethics_review": False}),
    S("pre_market_rnd_high_risk_product",
      {"pre_market_rnd": "yes", "real_world_testing": "no", "route_to_market": "licensing", **EMPLOYMENT},
      "out_of_scope", {"out_of_scope_pre_market", "route_to_market_note", "high_risk_annex_iii_4a"},
      flags={"high_risk": True, "needs_ethics_review": True}),
    S("pre_market_with_real_world_testing",
      {"pre_market_rnd": "yes", "real_world_testing": "yes", "route_to_market": "undecided",
       "interacts_with_persons": "yes", "interaction_obvious": "no"},
      "transparency", {"route_to_market_note", "transparency_art50_1"}, absent={"out_of_scope_pre_market"}),
    # --- prohibited practices: one scenario per Art. 5(1) point ----------------------------------
    *[
        S(f"prohibited_art5_1{letter}", {"prohibited_practices": [option]} | BIOMETRIC_USE.get(letter, {}),
          "prohibited",
          {f"prohibited_art5_1{letter}"}, absent={"minimal_risk"},
          flags={"prohibited": True, "needs_ethics_review": True},
          obligations={"art5_cease": "2025-02-02"})
        for letter, option in PROHIBITED_OPTIONS.items()
    ],
    S("prohibited_beats_high_risk_and_gpai",
      {"prohibited_practices": ["social_scoring", "crime_prediction"], **EMPLOYMENT, **LLM}, "prohibited",
      {"prohibited_art5_1c", "prohibited_art5_1d", "high_risk_annex_iii_4a", "gpai_model"},
      compute=flop(10**9, 17 * 10**12), flags={"prohibited": True, "high_risk": True, "gpai": True}),
    S("omnibus_intimate_imagery", {"intimate_imagery": "yes"}, "prohibited", {"prohibited_intimate_imagery"},
      rulesets=OMNIBUS, obligations={"art5_omnibus_cease": "2026-12-02"}, no_obligations={"art5_cease"},
      flags={"prohibited": True}),
    S("omnibus_image_generator_without_intimate_imagery", {"synthetic_content": ["image"]}, "transparency",
      {"transparency_art50_2"}, absent={"prohibited_intimate_imagery"}, rulesets=OMNIBUS),
    # --- high risk ------------------------------------------------------------------------------
    S("annex_i_medical_device_2024", MEDICAL_DEVICE, "high_risk",
      {"high_risk_annex_i"}, rulesets=V2024, obligations={"hr_annex_i_requirements": "2027-08-02"},
      flags={"high_risk": True, "needs_ethics_review": True}),
    S("annex_i_medical_device_omnibus", MEDICAL_DEVICE, "high_risk",
      {"high_risk_annex_i"}, rulesets=OMNIBUS, obligations={"hr_annex_i_requirements": "2028-08-02"}),
    S("annex_i_self_assessed_product", MEDICAL_DEVICE | {"annex_i_third_party": "no"}, "minimal",
      {"minimal_risk"}, absent={"high_risk_annex_i"}),
    S("annex_iii_recruitment_2024", EMPLOYMENT, "high_risk",
      {"high_risk_annex_iii_4a"}, rulesets=V2024,
      obligations={"hr_annex_iii_requirements": "2026-08-02", "hr_annex_iii_registration": "2026-08-02"}),
    S("annex_iii_recruitment_omnibus", EMPLOYMENT, "high_risk",
      {"high_risk_annex_iii_4a"}, rulesets=OMNIBUS,
      obligations={"hr_annex_iii_requirements": "2027-12-02", "hr_annex_iii_registration": "2027-12-02"}),
    S("annex_iii_derogation_2024", DEROGATION, "minimal",
      {"annex_iii_derogation", "derogation_documentation", "minimal_risk"}, absent={"high_risk_annex_iii_4a"},
      rulesets=V2024, flags={"derogation_applied": True, "high_risk": False, "needs_ethics_review": False},
      obligations={"art6_4_documentation": "2026-08-02", "art49_2_registration": "2026-08-02"},
      no_obligations={"hr_annex_iii_requirements"}),
    S("annex_iii_derogation_omnibus",
      DEROGATION | {"annex_iii_areas": ["education", "justice_democracy"], "annex_iii_3_education": ["admission"],
                    "annex_iii_8_justice_democracy": ["judicial"]},
      "minimal", {"annex_iii_derogation", "derogation_documentation"}, rulesets=OMNIBUS,
      flags={"derogation_applied": True},
      obligations={"art6_4_documentation": "2027-12-02", "art49_2_registration": "2027-12-02"}),
    S("annex_iii_derogation_with_chatbot", DEROGATION | CHATBOT, "transparency",
      {"annex_iii_derogation", "transparency_art50_1"}, flags={"derogation_applied": True}),
    S("annex_iii_profiling_override", DEROGATION | {"profiling": "yes"}, "high_risk",
      {"profiling_override", "high_risk_annex_iii_4a"},
      absent={"annex_iii_derogation", "derogation_documentation"},
      flags={"profiling_override": True, "derogation_applied": False, "high_risk": True}),
    S("annex_iii_significant_risk", DEROGATION | {"no_significant_risk": "no"}, "high_risk",
      {"high_risk_annex_iii_4a"}, absent={"annex_iii_derogation", "profiling_override"},
      flags={"profiling_override": False}),
    # --- transparency ---------------------------------------------------------------------------
    S("chatbot_not_obvious", CHATBOT, "transparency",
      {"transparency_art50_1"}, obligations={"art50_1_disclose_interaction": "2026-08-02"},
      flags={"needs_ethics_review": True}),
    S("chatbot_obvious", {"interacts_with_persons": "yes", "interaction_obvious": "yes"}, "minimal",
      {"minimal_risk"}, absent={"transparency_art50_1"}),
    S("synthetic_media", {"synthetic_content": ["audio", "video"]}, "transparency", {"transparency_art50_2"},
      obligations={"art50_2_mark_output": "2026-08-02"}),
    S("emotion_recognition_deployment", {"emotion_biometric_exposure": "yes"}, "transparency",
      {"transparency_art50_3"}),
    S("deepfakes", {"synthetic_content": ["video"], "public_disclosure": ["deepfake"]}, "transparency",
      {"transparency_art50_2", "transparency_art50_4"}),
    S("public_text_without_editor", PUBLIC_TEXT | {"editorial_control": "no"}, "transparency",
      {"transparency_art50_4"}),
    S("public_text_with_editor", PUBLIC_TEXT | {"editorial_control": "yes"},
      "minimal", {"minimal_risk"}, absent={"transparency_art50_4"}),
    # --- GPAI thresholds: 1e23 ------------------------------------------------------------------
    S("llm_just_below_1e23", LLM, "minimal", {"minimal_risk"}, absent={"gpai_model"},
      compute=flop(10**9, 16_500 * 10**9)),  # 9.9e22
    S("llm_exactly_1e23", LLM, "minimal", {"minimal_risk"}, absent={"gpai_model"},
      compute=flop(10**9, 10**13, prior=4e22)),  # 6e22 + 4e22 == 1e23: not "above"
    S("llm_just_above_1e23", LLM, "gpai", {"gpai_model"}, compute=flop(10**9, 17_000 * 10**9),  # 1.02e23
      flags={"gpai": True, "systemic_risk": False, "needs_ethics_review": True},
      obligations={"art53_1a_technical_documentation": "2025-08-02",
                   "art53_1b_downstream_information": "2025-08-02",
                   "art53_1c_copyright_policy": "2025-08-02", "art53_1d_training_summary": "2025-08-02"},
      no_obligations={"art52_notification", "art55_1a_evaluation"}),
    S("above_1e23_via_prior_lineage", LLM, "gpai", {"gpai_model"},
      compute=flop(10**9, 10**13, prior=5e22)),  # 6e22 this time, 1.1e23 cumulative
    S("non_generative_model_above_1e23", LLM | {"model_modalities": ["other"]}, "minimal",
      {"minimal_risk", "gpai_criterion_not_met"}, absent={"gpai_model"}, compute=flop(10**9, 17_000 * 10**9)),
    S("non_generative_model_below_1e23", LLM | {"model_modalities": ["other"]}, "minimal", {"minimal_risk"},
      absent={"gpai_model", "gpai_criterion_not_met"}, compute=flop(10**9, 16_500 * 10**9)),
    S("open_weights_llm", LLM | OPEN_WEIGHTS, "gpai", {"gpai_model", "gpai_open_source_exemption"},
      compute=flop(10**9, 17_000 * 10**9),
      obligations={"art53_1c_copyright_policy": "2025-08-02", "art53_1d_training_summary": "2025-08-02"},
      no_obligations={"art53_1a_technical_documentation", "art53_1b_downstream_information"}),
    S("gpai_with_chatbot_and_high_risk", LLM | EMPLOYMENT, "high_risk",
      {"gpai_model", "high_risk_annex_iii_4a"}, compute=flop(10**9, 17_000 * 10**9),
      flags={"gpai": True, "high_risk": True}),
    # --- systemic risk: 1e25 --------------------------------------------------------------------
    S("llm_just_below_1e25", LLM, "gpai", {"gpai_model"}, absent={"gpai_systemic_risk"},
      compute=flop(10**11, 16_500 * 10**9)),  # 9.9e24
    S("llm_exactly_1e25", LLM, "gpai", {"gpai_model"}, absent={"gpai_systemic_risk"},
      compute=flop(10**11, 15 * 10**12, prior=1e24)),  # 9e24 + 1e24 == 1e25: not "above"
    S("llm_just_above_1e25", LLM, "gpai_systemic",
      {"gpai_model", "gpai_systemic_risk", "gpai_systemic_notification"},
      compute=flop(10**11, 17_000 * 10**9),  # 1.02e25
      flags={"gpai": True, "systemic_risk": True},
      obligations={"art52_notification": "2025-08-02", "art55_1a_evaluation": "2025-08-02",
                   "art55_1b_risk_mitigation": "2025-08-02", "art55_1c_serious_incidents": "2025-08-02",
                   "art55_1d_cybersecurity": "2025-08-02", "art53_1a_technical_documentation": "2025-08-02"}),
    S("open_weights_systemic_keeps_documentation", LLM | OPEN_WEIGHTS, "gpai_systemic",
      {"gpai_systemic_risk"}, absent={"gpai_open_source_exemption"}, compute=flop(10**11, 17_000 * 10**9),
      obligations={"art53_1a_technical_documentation": "2025-08-02",
                   "art53_1b_downstream_information": "2025-08-02"}),
    S("above_1e25_via_prior_lineage", LLM, "gpai_systemic", {"gpai_systemic_risk"},
      compute=flop(10**11, 10**13, prior=5e24)),  # 6e24 now, 1.1e25 cumulative
    # --- downstream modifiers: one third of the base model's compute ----------------------------
    S("fine_tune_exactly_one_third", FINE_TUNE, "minimal", {"gpai_downstream_modifier", "minimal_risk"},
      absent={"gpai_modifier_provider", "gpai_model"}, flags={"modifier_is_provider": False},
      compute=flop(8 * 10**9, 2 * 10**12, base=2.88e23)),  # 9.6e22 / 2.88e23 == 1/3 exactly
    S("fine_tune_just_below_one_third", FINE_TUNE, "minimal", {"gpai_downstream_modifier"},
      absent={"gpai_modifier_provider"}, compute=flop(8 * 10**9, 2 * 10**12, base=2.9e23)),  # 0.331
    S("fine_tune_just_above_one_third", FINE_TUNE, "gpai", {"gpai_modifier_provider"},
      absent={"gpai_downstream_modifier", "gpai_model"},
      compute=flop(8 * 10**9, 2 * 10**12, base=2.85e23),  # 0.337
      flags={"modifier_is_provider": True, "gpai": True},
      obligations={"art53_1c_copyright_policy": "2025-08-02"}),
    S("modifier_provider_above_1e25", FINE_TUNE | OPEN_WEIGHTS, "gpai_systemic",
      {"gpai_modifier_provider", "gpai_systemic_risk", "gpai_systemic_notification"},
      absent={"gpai_open_source_exemption"},
      compute=flop(10**11, 17_000 * 10**9, base=3e25),  # 1.02e25, 34 % of the base model
      flags={"modifier_is_provider": True, "systemic_risk": True}),
    # --- nothing declared -----------------------------------------------------------------------
    S("minimal_baseline", {}, "minimal", {"minimal_risk"}, flags={"needs_ethics_review": False},
      obligations={"art4_ai_literacy": "2025-02-02"}),
]

#: Every scenario module, so that together they reach every conclusion code.
ALL_SCENARIOS: list[Scenario] = [
    *SCENARIOS, *test_ai_act_annex_iii.SCENARIOS, *test_ai_act_scope_roles.SCENARIOS,
    *test_ai_act_modifiers.SCENARIOS, *test_ai_act_omnibus.SCENARIOS,
]


PARAMS = [pytest.param(s, v, id=f"{s.name}[{v}]") for s in SCENARIOS for v in s.rulesets]


def test_enough_named_scenarios():
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS) >= 25


@pytest.mark.parametrize(("scenario", "version"), PARAMS)
def test_scenario(scenario: Scenario, version: str):
    check(scenario, version)


@pytest.mark.parametrize("version", BOTH)
def test_every_conclusion_code_is_reached(version: str):
    reached: set[str] = set()
    for scenario in ALL_SCENARIOS:
        if version in scenario.rulesets:
            reached |= set(run(scenario, version).conclusion_codes)
    assert set(load_ruleset(version).conclusion_codes) - reached == set()


def test_omnibus_prohibition_only_exists_in_omnibus():
    assert "prohibited_intimate_imagery" not in load_ruleset("2024").conclusion_codes
    with pytest.raises(AnswerError) as excinfo:
        classify(load_ruleset("2024"), {"intimate_imagery": "yes"})
    assert "intimate_imagery" in excinfo.value.errors


def test_omnibus_moves_high_risk_dates():
    old, new = load_ruleset("2024").dates, load_ruleset("2026-omnibus").dates
    assert (old["annex_iii"].isoformat(), new["annex_iii"].isoformat()) == ("2026-08-02", "2027-12-02")
    assert (old["annex_i"].isoformat(), new["annex_i"].isoformat()) == ("2027-08-02", "2028-08-02")
    assert new["omnibus_prohibition"].isoformat() == "2026-12-02"
    for key in ("prohibitions", "gpai", "transparency"):
        assert old[key] == new[key]


# --- overall classification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ({"prohibited", "out_of_scope", "high_risk"}, "prohibited"),
        ({"out_of_scope", "high_risk", "gpai_systemic"}, "out_of_scope"),
        ({"high_risk", "gpai_systemic", "gpai", "transparency"}, "high_risk"),
        ({"gpai_systemic", "gpai", "transparency"}, "gpai_systemic"),
        ({"gpai", "transparency"}, "gpai"),
        ({"transparency"}, "transparency"),
        (set(), "minimal"),
    ],
)
def test_precedence(classes: set[str], expected: str):
    assert engine._overall_classification({RiskClass(c) for c in classes}) == expected


# --- result shape, languages, determinism ---------------------------------------------------------


def test_to_dict_is_json_and_deterministic():
    ruleset = load_ruleset()
    answers = answers_for(ruleset, LLM | CHATBOT)
    compute = ruleset.estimate(flop(10**11, 17_000 * 10**9))
    first = classify(ruleset, answers, compute).to_dict()
    second = classify(ruleset, dict(reversed(list(answers.items()))), compute).to_dict()
    assert first == second
    data = json.loads(json.dumps(first))
    assert data["ruleset"] == "2026-omnibus" and data["ruleset_sha256"] == ruleset.sha256
    assert data["classification"] == "gpai_systemic"
    assert set(data["flags"]) == {*engine.FLAG_NAMES, "needs_ethics_review"}
    assert set(data["compute"]["warnings"][0]) == {"code", "message", "figure", "threshold", "basis"}
    assert set(data["conclusions"][0]) == {"code", "title", "article", "url", "rationale"}
    assert set(data["obligations"][0]) == {"code", "article", "text", "url", "applies_from"}
    assert data["compute"]["cumulative_flop"] == pytest.approx(1.02e25)
    assert [w["code"] for w in data["compute"]["warnings"]] == [
        "gpai_threshold", "systemic_threshold", "near_systemic_threshold"]
    assert classify(ruleset, answers).to_dict()["compute"] is None


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "High-risk: Annex III, point 4(a), recruitment and selection"),
     ("fr", "Haut risque : annexe III, point 4 a), recrutement et sélection"),
     ("nl", "Hoog risico: bijlage III, punt 4, a), werving en selectie")],
)
def test_translated_titles(language: str, title: str):
    ruleset = load_ruleset()
    result = classify(ruleset, answers_for(ruleset, EMPLOYMENT),
                      language=language)
    conclusion = next(c for c in result.conclusions if c.code == "high_risk_annex_iii_4a")
    assert conclusion.title == title
    date = {"en": "2 December 2027", "fr": "2 décembre 2027", "nl": "2 december 2027"}[language]
    assert date in conclusion.rationale


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError, match="language"):
        classify(load_ruleset(), {}, language="de")


@pytest.mark.parametrize("version", BOTH)
def test_placeholders_are_rendered_everywhere(version: str):
    ruleset = load_ruleset(version)
    texts = [ruleset.title]
    for q in ruleset.questions:
        texts += [q.text, q.help, *(o.label for o in q.options)]
    for r in ruleset.rules:
        texts += [r.title, r.rationale]
    texts += [o.text for o in ruleset.obligations]
    for translations in texts:
        assert set(translations) == {"en", "fr", "nl"}
        for text in translations.values():
            assert "{" not in text and "}" not in text, text
    assert "1e23 FLOP" in ruleset.question("trains_model").help["en"]


def test_incomplete_assessment_is_reported():
    ruleset = load_ruleset()
    result = classify(ruleset, {"research_only": "no"})
    assert not result.complete
    assert result.missing_answers[0] == "pre_market_rnd"
    assert result.to_dict()["complete"] is False


# --- questionnaire flow -----------------------------------------------------------------------------


def test_research_only_hides_the_product_questions():
    ruleset = load_ruleset()
    ids = [q.id for q in visible_questions(ruleset, {"research_only": "yes"})]
    assert ids == ["research_only", "prohibited_practices", "intimate_imagery"]
    assert missing_answers(ruleset, {"research_only": "yes"}) == ["prohibited_practices", "intimate_imagery"]


def test_follow_up_questions_appear_in_order():
    ruleset = load_ruleset("2024")
    ids = [q.id for q in visible_questions(ruleset, {"research_only": "no"})]
    assert "pre_market_rnd" in ids and "route_to_market" not in ids and "derogation_conditions" not in ids
    answers = {"research_only": "no", "pre_market_rnd": "yes", "military_only": "no",
               "union_link": ["placed_in_union"], "operator_role": ["deployer"], "annex_iii_areas": ["education"],
               "annex_iii_3_education": ["admission"], "derogation_conditions": ["preparatory"],
               "no_significant_risk": "yes", "trains_model": "yes", "modifies_gpai_model": "yes",
               "open_weights": "yes"}
    ids = [q.id for q in visible_questions(ruleset, answers)]
    for qid in ("real_world_testing", "route_to_market", "military_only", "union_link", "operator_role",
                "public_service_deployer", "annex_iii_3_education", "derogation_conditions", "no_significant_risk",
                "profiling", "model_modalities", "modifies_gpai_model", "base_model_compute_known",
                "base_model_systemic", "open_weights", "open_weights_monetised"):
        assert qid in ids
    assert ids == [q.id for q in ruleset.questions if q.id in ids]  # file order kept


def test_empty_answers_list_the_always_visible_questions():
    ruleset = load_ruleset()
    assert missing_answers(ruleset, {}) == [q.id for q in ruleset.questions if q.show_if is None]


def test_clean_answers_normalises_and_drops_hidden_answers():
    ruleset = load_ruleset()
    cleaned = clean_answers(ruleset, {
        "research_only": False,
        "military_only": False,
        "union_link": ["output_in_union", "placed_in_union"],
        "prohibited_practices": ["none"],
        "synthetic_content": ["text", "audio"],
        "route_to_market": "own_product",  # hidden: pre_market_rnd not answered yes
        "interaction_obvious": None,        # explicitly unanswered
    })
    assert cleaned == {"research_only": "no", "military_only": "no",
                       "union_link": ["placed_in_union", "output_in_union"],  # the file's order
                       "prohibited_practices": ["none"], "synthetic_content": ["audio", "text"]}
    json.dumps(cleaned)


def test_clean_answers_reports_every_error():
    ruleset = load_ruleset()
    with pytest.raises(AnswerError) as excinfo:
        clean_answers(ruleset, {
            "nope": "yes",
            "research_only": "maybe",
            "route_to_market": "moon",
            "annex_iii_areas": "employment",
            "synthetic_content": ["text", "none"],
            "prohibited_practices": ["manipulation", "manipulation"],
            "model_modalities": ["telepathy"],
            "public_disclosure": [],
        })
    errors = excinfo.value.errors
    assert errors["nope"].startswith("unknown question")
    assert "'yes' or 'no'" in errors["research_only"]
    assert "not an option" in errors["route_to_market"]
    assert "list" in errors["annex_iii_areas"]
    assert "cannot be combined" in errors["synthetic_content"]
    assert "more than once" in errors["prohibited_practices"]
    assert "telepathy" in errors["model_modalities"]
    assert "at least one" in errors["public_disclosure"]
    assert "research_only:" in str(excinfo.value)


def test_hidden_answers_never_reach_the_rules():
    ruleset = load_ruleset()
    # Annex III answers given, but research-only hides them: no high-risk conclusion.
    answers = {"research_only": "yes", "prohibited_practices": ["none"], "intimate_imagery": "no"}
    answers |= EMPLOYMENT
    result = classify(ruleset, answers)
    assert result.conclusion_codes == ("out_of_scope_research",)


# --- loading ---------------------------------------------------------------------------------------


def test_available_and_default_rulesets():
    assert available_rulesets() == ["2024", "2026-omnibus"]
    assert engine.DEFAULT_RULESET == "2026-omnibus"
    assert load_ruleset() is load_ruleset("2026-omnibus")  # cached


@pytest.mark.parametrize("version", BOTH)
def test_sha256_is_of_the_file_bytes(version: str):
    import hashlib

    content = (engine.RULESET_DIR / f"{version}.yaml").read_bytes()
    assert load_ruleset(version).sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("version", ["2025", "../2024", ""])
def test_unknown_ruleset(version: str):
    with pytest.raises(UnknownRuleSetError, match="unknown rule set"):
        load_ruleset(version)


# --- compute ----------------------------------------------------------------------------------------


def test_hardware_and_architecture_estimates():
    inputs = ComputeInputs(gpu_hours=50_000, gpu_peak_flops=GPU_PEAK_FLOPS["H100"], parameters=7 * 10**9,
                           training_tokens=10**12)
    estimate = estimate_compute(inputs)
    assert estimate.hardware_flop == pytest.approx(50_000 * 3600 * 989e12 * 0.4)  # 7.1e22
    assert estimate.architecture_flop == pytest.approx(4.2e22)
    assert estimate.estimate_flop == estimate.hardware_flop
    assert estimate.cumulative_flop == estimate.estimate_flop
    assert estimate.warnings == ()  # a Fast Lane request stays under 1e23


def test_larger_estimate_and_lineage_are_used():
    inputs = ComputeInputs(gpu_hours=1_000, gpu_peak_flops=GPU_PEAK_FLOPS["A100"], utilisation=0.3,
                           parameters=10**9, training_tokens=10**13, prior_lineage_flop=8e22)
    estimate = estimate_compute(inputs)
    assert estimate.estimate_flop == estimate.architecture_flop == pytest.approx(6e22)
    assert estimate.cumulative_flop == pytest.approx(1.4e23)
    assert [w.code for w in estimate.warnings] == ["gpai_threshold"]


def test_seventy_thousand_h100_hours_reach_1e23():
    # The rule of thumb in AI_ACT.md: ~70,000 GPU-hours at 40 % MFU on H100 reach 1e23 FLOP.
    below = estimate_compute(ComputeInputs(gpu_hours=70_000, gpu_peak_flops=GPU_PEAK_FLOPS["H100"]))
    above = estimate_compute(ComputeInputs(gpu_hours=71_000, gpu_peak_flops=GPU_PEAK_FLOPS["H100"]))
    assert below.cumulative_flop < 1e23 < above.cumulative_flop
    assert [w.code for w in below.warnings] == ["near_gpai_threshold"]
    assert [w.code for w in above.warnings] == ["gpai_threshold", "near_gpai_threshold"]


@pytest.mark.parametrize(
    ("base", "warned"),
    [(2.85e23, True), (2.88e23, False), (2.9e23, False)],  # fractions 0.337, exactly 1/3, 0.331
)
def test_modifier_warning_edges(base: float, warned: bool):
    estimate = estimate_compute(flop(8 * 10**9, 2 * 10**12, base=base))
    assert ("modifier_threshold" in [w.code for w in estimate.warnings]) is warned


@pytest.mark.parametrize(
    ("parameters", "tokens", "prior", "codes"),
    [
        (10**11, 16_500 * 10**9, 0.0, ["gpai_threshold", "near_systemic_threshold"]),
        (10**11, 15 * 10**12, 1e24, ["gpai_threshold", "near_systemic_threshold"]),
        (10**11, 17_000 * 10**9, 0.0, ["gpai_threshold", "systemic_threshold", "near_systemic_threshold"]),
        (10**11, 20_000 * 10**9, 0.0, ["gpai_threshold", "systemic_threshold"]),  # 1.2e25: clearly above
    ],
)
def test_systemic_warning_edges(parameters: int, tokens: int, prior: float, codes: list[str]):
    assert [w.code for w in estimate_compute(flop(parameters, tokens, prior=prior)).warnings] == codes


def test_gpu_peaks():
    assert GPU_PEAK_FLOPS == {"A100": 312e12, "H100": 989e12, "H200": 989e12, "MI300X": 1307e12}


@pytest.mark.parametrize(
    "kwargs",
    [{"gpu_hours": -1}, {"utilisation": 0}, {"utilisation": 1.5}, {"base_model_flop": 0},
     {"parameters": -5}, {"gpu_hours": float("nan")}, {"prior_lineage_flop": "1e23"}],
)
def test_invalid_compute_inputs(kwargs: dict[str, Any]):
    with pytest.raises(ValueError):
        ComputeInputs(**{"gpu_hours": 1.0, "gpu_peak_flops": 989e12, **kwargs})


def test_classify_accepts_a_hand_made_estimate():
    ruleset = load_ruleset()
    estimate = ComputeEstimate(
        hardware_flop=2e23, architecture_flop=None, estimate_flop=2e23, cumulative_flop=2e23
    )
    result = classify(ruleset, answers_for(ruleset, LLM), estimate)
    assert result.classification == RiskClass.GPAI


def test_edge_scenarios_sit_exactly_on_the_thresholds():
    # Guards the "exactly" scenarios above against float drift: they must hit the threshold itself.
    assert estimate_compute(flop(10**9, 10**13, prior=4e22)).cumulative_flop == 1e23
    assert estimate_compute(flop(10**11, 15 * 10**12, prior=1e24)).cumulative_flop == 1e25
    fraction = estimate_compute(flop(8 * 10**9, 2 * 10**12, base=2.88e23)).base_model_fraction
    assert fraction == load_ruleset().thresholds["modifier_fraction"] == 1 / 3


# --- near a threshold: within 10 % on either side, saying what the estimate rests on ---------------------


@pytest.mark.parametrize(
    ("inputs", "codes"),
    [
        # 9.2e22 and 1.08e23 FLOP: within 10 % of 1e23, below and above
        (flop(10**9, 15_333 * 10**9), ["near_gpai_threshold"]),
        (flop(10**9, 18 * 10**12), ["gpai_threshold", "near_gpai_threshold"]),
        # 8.5e22 and 1.2e23 FLOP: more than 10 % away
        (flop(10**9, 14_166 * 10**9), []),
        (flop(10**9, 20 * 10**12), ["gpai_threshold"]),
        # 9.3e24 and 1.05e25 FLOP
        (flop(10**11, 15_500 * 10**9), ["gpai_threshold", "near_systemic_threshold"]),
        (flop(10**11, 17_500 * 10**9), ["gpai_threshold", "systemic_threshold", "near_systemic_threshold"]),
        # 31 % and 35 % of the base model's compute: near one third, on both sides
        (flop(10**9, 10**12, base=6e21 / 0.31), ["near_modifier_threshold"]),
        (flop(10**9, 10**12, base=6e21 / 0.35), ["modifier_threshold", "near_modifier_threshold"]),
        (flop(10**9, 10**12, base=6e21 / 0.25), []),
    ],
)
def test_near_threshold_warnings_on_both_sides(inputs: ComputeInputs, codes: list[str]):
    assert [w.code for w in estimate_compute(inputs).warnings] == codes


def test_a_near_threshold_warning_says_what_the_estimate_rests_on():
    hardware = estimate_compute(ComputeInputs(gpu_hours=70_000, gpu_peak_flops=GPU_PEAK_FLOPS["H100"]))
    (near,) = hardware.warnings
    assert near.basis == "hardware" and near.threshold == 1e23 and near.figure == hardware.cumulative_flop
    assert "estimate" in near.message and "GPU-hours" in near.message and "utilisation" in near.message
    architecture = estimate_compute(flop(10**9, 15_333 * 10**9))
    assert architecture.warnings[0].basis == "architecture"
    assert "6 x parameters x training tokens" in architecture.warnings[0].message


def test_warnings_never_claim_a_classification():
    # A non-generative model above 1e23 FLOP: the warning states the figure; the conclusion explains.
    ruleset = load_ruleset()
    compute = ruleset.estimate(flop(10**9, 20 * 10**12))
    result = classify(ruleset, answers_for(ruleset, LLM | {"model_modalities": ["other"]}), compute)
    assert result.classification == RiskClass.MINIMAL
    assert "gpai_criterion_not_met" in result.conclusion_codes
    (warning,) = compute.warnings
    assert "depends on what the model can generate" in warning.message
    assert "is a general-purpose AI model" not in warning.message
