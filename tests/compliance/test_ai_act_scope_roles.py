"""Scope (Art. 2(1), 2(3), 2(12)), Annex I sections A and B (Art. 2(2)) and the applicant's role (Art. 3,
Art. 16, 23, 24, 25(3), 26, 50), written from the articles.

- Art. 2(1): the Act reaches systems placed on the market or put into service in the Union, deployers
  in the Union, and output used in the Union; nothing else.
- Art. 2(3): systems exclusively for military, defence or national security purposes are outside it.
- Art. 2(12): a system under a free and open-source licence is outside it unless it is high-risk or
  falls under Art. 5 or 50; a general-purpose AI model keeps its own obligations (Art. 53(2)).
- Art. 2(2): for products of Annex I, Section B, only Art. 6(1), 102-109 and 112 apply.
- Obligations follow the role: Art. 16 (provider), Art. 26 (deployer), Art. 23 (importer), Art. 24
  (distributor), Art. 25(3) (product manufacturer); Art. 50(1)-(2) are provider duties, 50(3)-(4)
  deployer duties.
"""

from __future__ import annotations

import pytest

from compliance.ai_act import RiskClass, classify, load_ruleset, visible_questions

from .ai_act_cases import (
    BOTH,
    CHATBOT,
    DEROGATION,
    EMPLOYMENT,
    LLM,
    MEDICAL_DEVICE,
    OPEN_WEIGHTS,
    S,
    Scenario,
    answers_for,
    check,
    flop,
)

PROVIDER = {"operator_role": ["provider"]}
DEPLOYER = {"operator_role": ["deployer"]}
PROVIDER_DUTIES = {"hr_annex_iii_requirements", "art43_2_internal_control", "hr_annex_iii_registration"}
VEHICLE = {"annex_i_product": "yes", "annex_i_section": "section_b", "annex_i_third_party": "yes"}
GPAI_COMPUTE = flop(10**9, 17_000 * 10**9)  # 1.02e23 FLOP

SCENARIOS: list[Scenario] = [
    # --- Art. 2(3): military, defence or national security only --------------------------------
    S("military_only", {"military_only": "yes"}, "out_of_scope", {"out_of_scope_military"},
      absent={"minimal_risk"}, no_obligations={"art4_ai_literacy"}, flags={"needs_ethics_review": False}),
    S("military_only_but_prohibited", {"military_only": "yes", "prohibited_practices": ["social_scoring"]},
      "prohibited", {"out_of_scope_military", "prohibited_art5_1c"}),
    S("dual_use_is_in_scope", {"military_only": "no", **EMPLOYMENT}, "high_risk", {"high_risk_annex_iii_4a"},
      absent={"out_of_scope_military"}),
    # --- Art. 2(1): territorial scope ------------------------------------------------------------
    S("no_link_with_the_union", {"union_link": ["none"]}, "out_of_scope", {"out_of_scope_territorial"},
      absent={"minimal_risk"}, no_obligations={"art4_ai_literacy"}),
    S("output_used_in_the_union", {"union_link": ["output_in_union"], **EMPLOYMENT}, "high_risk",
      {"high_risk_annex_iii_4a"}, absent={"out_of_scope_territorial"}),
    S("deployer_in_the_union", {"union_link": ["deployer_in_union"], **DEPLOYER}, "minimal", {"minimal_risk"},
      obligations={"art4_ai_literacy": "2025-02-02"}),
    # --- Art. 2(12): free and open-source systems -------------------------------------------------
    S("open_source_system", {"open_source_system": "yes"}, "out_of_scope", {"out_of_scope_open_source"},
      absent={"minimal_risk"}, no_obligations={"art4_ai_literacy"}),
    S("open_source_high_risk_system", {"open_source_system": "yes", **EMPLOYMENT}, "high_risk",
      {"high_risk_annex_iii_4a"}, absent={"out_of_scope_open_source"}),
    S("open_source_chatbot", {"open_source_system": "yes", **CHATBOT}, "transparency", {"transparency_art50_1"},
      absent={"out_of_scope_open_source"}),
    S("open_source_prohibited_system", {"open_source_system": "yes", "prohibited_practices": ["exploitation"]},
      "prohibited", {"prohibited_art5_1b"}, absent={"out_of_scope_open_source"}),
    S("open_source_system_on_a_gpai_model", {"open_source_system": "yes", **LLM, **OPEN_WEIGHTS}, "gpai",
      {"gpai_model", "gpai_open_source_exemption"}, absent={"out_of_scope_open_source"},
      compute=GPAI_COMPUTE),
    # --- Annex I, sections A and B (Art. 2(2)) ----------------------------------------------------
    S("annex_i_section_b_vehicle_2024", VEHICLE, "high_risk", {"high_risk_annex_i_section_b"},
      absent={"high_risk_annex_i"}, rulesets=("2024",),
      obligations={"annex_i_section_b_sectoral": "2027-08-02"},
      no_obligations={"hr_annex_i_requirements", "art26_deployer_annex_i", "art25_3_product_manufacturer"},
      flags={"high_risk": True}),
    S("annex_i_section_b_vehicle_omnibus", VEHICLE, "high_risk", {"high_risk_annex_i_section_b"},
      rulesets=("2026-omnibus",), obligations={"annex_i_section_b_sectoral": "2028-08-02"}),
    S("annex_i_section_b_self_assessed", VEHICLE | {"annex_i_third_party": "no"}, "minimal", {"minimal_risk"},
      absent={"high_risk_annex_i_section_b"}),
    S("annex_i_section_a_deployer", MEDICAL_DEVICE, "high_risk", {"high_risk_annex_i"},
      absent={"high_risk_annex_i_section_b"}, rulesets=("2024",),
      obligations={"hr_annex_i_requirements": "2027-08-02", "art26_deployer_annex_i": "2027-08-02"},
      no_obligations={"annex_i_section_b_sectoral"}),
    S("annex_i_section_a_product_manufacturer", MEDICAL_DEVICE | {"operator_role": ["product_manufacturer"]},
      "high_risk", {"high_risk_annex_i"}, rulesets=("2026-omnibus",),
      obligations={"art25_3_product_manufacturer": "2028-08-02", "hr_annex_i_requirements": "2028-08-02"},
      no_obligations={"art26_deployer_annex_i"}),
    S("annex_i_section_a_importer", MEDICAL_DEVICE | {"operator_role": ["importer"]}, "high_risk",
      {"high_risk_annex_i"}, rulesets=("2024",), obligations={"art23_importer_annex_i": "2027-08-02"},
      no_obligations={"hr_annex_i_requirements"}),
    S("annex_i_section_a_distributor", MEDICAL_DEVICE | {"operator_role": ["distributor"]}, "high_risk",
      {"high_risk_annex_i"}, rulesets=("2024",), obligations={"art24_distributor_annex_i": "2027-08-02"},
      no_obligations={"hr_annex_i_requirements", "art23_importer_annex_i"}),
    # --- roles on an Annex III system -----------------------------------------------------------
    S("provider_of_recruitment_software", EMPLOYMENT | PROVIDER, "high_risk", {"high_risk_annex_iii_4a"},
      rulesets=("2024",), obligations=dict.fromkeys(PROVIDER_DUTIES, "2026-08-02"),
      no_obligations={"art26_deployer"}),
    S("deployer_of_recruitment_software", EMPLOYMENT | DEPLOYER, "high_risk", {"high_risk_annex_iii_4a"},
      rulesets=("2026-omnibus",), obligations={"art26_deployer": "2027-12-02"}, no_obligations=PROVIDER_DUTIES),
    S("importer_of_recruitment_software", EMPLOYMENT | {"operator_role": ["importer"]}, "high_risk",
      {"high_risk_annex_iii_4a"}, rulesets=("2024",), obligations={"art23_importer": "2026-08-02"},
      no_obligations=PROVIDER_DUTIES | {"art26_deployer", "art24_distributor"}),
    S("distributor_of_recruitment_software", EMPLOYMENT | {"operator_role": ["distributor"]}, "high_risk",
      {"high_risk_annex_iii_4a"}, rulesets=("2026-omnibus",), obligations={"art24_distributor": "2027-12-02"},
      no_obligations=PROVIDER_DUTIES | {"art23_importer"}),
    S("derogation_documented_by_the_provider", DEROGATION | PROVIDER, "minimal", {"annex_iii_derogation"},
      rulesets=("2024",), obligations={"art6_4_documentation": "2026-08-02", "art49_2_registration": "2026-08-02"}),
    S("derogation_seen_by_a_deployer", DEROGATION | DEPLOYER, "minimal", {"annex_iii_derogation"},
      no_obligations={"art6_4_documentation", "art49_2_registration"}),
    # --- Art. 50: provider and deployer duties ------------------------------------------------------
    S("chatbot_provider", CHATBOT | PROVIDER, "transparency", {"transparency_art50_1"},
      obligations={"art50_1_disclose_interaction": "2026-08-02"}),
    S("chatbot_deployer", CHATBOT | DEPLOYER, "transparency", {"transparency_art50_1"},
      no_obligations={"art50_1_disclose_interaction"}),
    S("emotion_recognition_deployer", {"emotion_biometric_exposure": "yes", **DEPLOYER}, "transparency",
      {"transparency_art50_3"}, obligations={"art50_3_inform_exposed": "2026-08-02"}),
    S("emotion_recognition_provider", {"emotion_biometric_exposure": "yes", **PROVIDER}, "transparency",
      {"transparency_art50_3"}, no_obligations={"art50_3_inform_exposed"}),
    S("image_generator_provider", {"synthetic_content": ["image"], **PROVIDER}, "transparency",
      {"transparency_art50_2"}, obligations={"art50_2_mark_output": "2026-08-02"}),
    S("deepfakes_published_by_a_provider_only", {"synthetic_content": ["video"], "public_disclosure": ["deepfake"],
                                                 **PROVIDER},
      "transparency", {"transparency_art50_4"}, no_obligations={"art50_4_disclose_deepfakes"}),
]


@pytest.mark.parametrize(("scenario", "version"),
                         [pytest.param(s, v, id=f"{s.name}[{v}]") for s in SCENARIOS for v in s.rulesets])
def test_scenario(scenario: Scenario, version: str):
    check(scenario, version)


@pytest.mark.parametrize("version", BOTH)
@pytest.mark.parametrize("answers", [{"military_only": "yes"}, {"union_link": ["none"]}],
                         ids=["military", "territorial"])
def test_out_of_scope_hides_the_questions_on_the_system(version, answers):
    ruleset = load_ruleset(version)
    base = {"research_only": "no", "pre_market_rnd": "no", "military_only": "no"}
    ids = [q.id for q in visible_questions(ruleset, base | answers)]
    for hidden in ("operator_role", "annex_i_product", "annex_iii_areas", "interacts_with_persons", "trains_model"):
        assert hidden not in ids
    assert "prohibited_practices" in ids  # the portal refuses prohibited practices whatever the scope


def test_the_role_question_allows_several_roles():
    ruleset = load_ruleset()
    result = classify(ruleset, answers_for(ruleset, EMPLOYMENT | {"operator_role": ["provider", "importer"]}))
    duties = {o.code for o in result.obligations}
    assert result.classification == RiskClass.HIGH_RISK
    assert {"hr_annex_iii_requirements", "art23_importer"} <= duties
    assert "art26_deployer" not in duties


def test_the_public_service_question_is_for_deployers_only():
    ruleset = load_ruleset()
    provider = [q.id for q in visible_questions(ruleset, answers_for(ruleset, PROVIDER))]
    deployer = [q.id for q in visible_questions(ruleset, answers_for(ruleset, DEPLOYER))]
    assert "public_service_deployer" not in provider
    assert "public_service_deployer" in deployer
