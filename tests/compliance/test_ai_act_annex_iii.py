"""Annex III by point: every use case of the Annex, the exceptions its text makes, and the obligations
that depend on the point (Art. 43(1) or 43(2), Art. 49(1), 49(4) or 49(5), Art. 26, Art. 27).

The table below is Annex III as the Official Journal lists it; the expected obligations follow the
articles, not the rule-set file:
- conformity assessment: Art. 43(1) (internal control or notified body) for point 1, Art. 43(2)
  (internal control) for points 2 to 8;
- registration: Art. 49(1) in the EU database except for point 2, which is registered at national level
  (Art. 49(5)); points 1, 6 and 7 in law enforcement, migration, asylum and border control management
  go to the non-public section (Art. 49(4));
- fundamental rights impact assessment (Art. 27(1)): deployers that are bodies governed by public law
  or private entities providing public services (point 2 excepted), and every deployer of points 5(b)
  and 5(c).
"""

from __future__ import annotations

import pytest

from compliance.ai_act import RiskClass, classify, load_ruleset

from .ai_act_cases import BOTH, S, Scenario, answers_for, check

ANNEX_III_DATE = {"2024": "2026-08-02", "2026-omnibus": "2027-12-02"}

# point, area, question of the point, answer that selects it
POINTS: list[tuple[str, str, str, str]] = [
    ("1(a)", "biometrics", "annex_iii_1_biometrics", "rbi"),
    ("1(b)", "biometrics", "annex_iii_1_biometrics", "categorisation"),
    ("1(c)", "biometrics", "annex_iii_1_biometrics", "emotion"),
    ("2", "critical_infrastructure", "annex_iii_2_critical_infrastructure", "safety_component"),
    ("3(a)", "education", "annex_iii_3_education", "admission"),
    ("3(b)", "education", "annex_iii_3_education", "learning_outcomes"),
    ("3(c)", "education", "annex_iii_3_education", "education_level"),
    ("3(d)", "education", "annex_iii_3_education", "test_monitoring"),
    ("4(a)", "employment", "annex_iii_4_employment", "recruitment"),
    ("4(b)", "employment", "annex_iii_4_employment", "work_relationships"),
    ("5(a)", "essential_services", "annex_iii_5_essential_services", "public_benefits"),
    ("5(b)", "essential_services", "annex_iii_5_essential_services", "creditworthiness"),
    ("5(c)", "essential_services", "annex_iii_5_essential_services", "insurance"),
    ("5(d)", "essential_services", "annex_iii_5_essential_services", "emergency"),
    ("6(a)", "law_enforcement", "annex_iii_6_law_enforcement", "victim_risk"),
    ("6(b)", "law_enforcement", "annex_iii_6_law_enforcement", "polygraph"),
    ("6(c)", "law_enforcement", "annex_iii_6_law_enforcement", "evidence_reliability"),
    ("6(d)", "law_enforcement", "annex_iii_6_law_enforcement", "offending_risk"),
    ("6(e)", "law_enforcement", "annex_iii_6_law_enforcement", "profiling"),
    ("7(a)", "migration", "annex_iii_7_migration", "polygraph"),
    ("7(b)", "migration", "annex_iii_7_migration", "person_risk"),
    ("7(c)", "migration", "annex_iii_7_migration", "applications"),
    ("7(d)", "migration", "annex_iii_7_migration", "identification"),
    ("8(a)", "justice_democracy", "annex_iii_8_justice_democracy", "judicial"),
    ("8(b)", "justice_democracy", "annex_iii_8_justice_democracy", "elections"),
]

PROVIDER_OBLIGATIONS = {"hr_annex_iii_requirements", "art43_1_conformity_biometrics", "art43_2_internal_control",
                        "hr_annex_iii_registration", "art49_4_non_public_registration",
                        "art49_5_national_registration"}
FRIA = "art27_fundamental_rights_impact_assessment"


def code(point: str) -> str:
    return "high_risk_annex_iii_" + point.replace("(", "").replace(")", "")


def point_answers(point: str, area: str, question: str, option: str, **extra) -> dict:
    answers = {"annex_iii_areas": [area], question: option if point == "2" else [option],
               "derogation_conditions": ["none"]}
    if area == "biometrics":
        answers["biometrics_law_enforcement"] = "no"
    if option in ("categorisation", "emotion"):
        answers["emotion_biometric_exposure"] = "yes"  # the same use, as Art. 50(3) asks it
    return answers | extra


def expected_obligations(point: str) -> tuple[set[str], set[str]]:
    """(due, not due) for a private provider that also deploys the system."""
    area = point[0]
    due = {"hr_annex_iii_requirements", "art26_deployer",
           "art43_1_conformity_biometrics" if area == "1" else "art43_2_internal_control",
           "art49_5_national_registration" if area == "2" else "hr_annex_iii_registration"}
    if area in "67":
        due.add("art49_4_non_public_registration")
    if point in ("5(b)", "5(c)"):
        due.add(FRIA)
    every = PROVIDER_OBLIGATIONS | {"art26_deployer", FRIA}
    return due, every - due


def point_scenarios() -> list[Scenario]:
    scenarios = []
    for point, area, question, option in POINTS:
        due, not_due = expected_obligations(point)
        for version in BOTH:
            scenarios.append(S(
                f"annex_iii_point_{point}_{version}", point_answers(point, area, question, option), "high_risk",
                {code(point)}, absent={"annex_iii_derogation", "minimal_risk", "annex_iii_excluded_use"},
                rulesets=(version,), flags={"high_risk": True, "needs_ethics_review": True},
                obligations=dict.fromkeys(due, ANNEX_III_DATE[version]), no_obligations=not_due))
    return scenarios


def answers_of(point: str, **extra) -> dict:
    return point_answers(*next(row for row in POINTS if row[0] == point), **extra)


PUBLIC_BODY = {"public_service_deployer": "yes"}
NOT_HIGH_RISK = {code(p) for p, *_ in POINTS}

SCENARIOS: list[Scenario] = [
    *point_scenarios(),
    # --- Art. 49(4): biometrics in law enforcement or migration ---------------------------------
    S("biometric_identification_for_the_police", answers_of("1(a)", biometrics_law_enforcement="yes"),
      "high_risk", {code("1(a)")},
      obligations={"art49_4_non_public_registration": "2027-12-02", "hr_annex_iii_registration": "2027-12-02",
                   "art43_1_conformity_biometrics": "2027-12-02"},
      rulesets=("2026-omnibus",)),
    # --- Art. 27: who carries out the fundamental rights impact assessment -----------------------
    S("public_body_deploys_recruitment", answers_of("4(a)") | PUBLIC_BODY, "high_risk", {code("4(a)")},
      obligations={FRIA: "2026-08-02"}, rulesets=("2024",)),
    S("public_body_deploys_judicial_assistance", answers_of("8(a)") | PUBLIC_BODY, "high_risk", {code("8(a)")},
      obligations={FRIA: "2027-12-02"}, rulesets=("2026-omnibus",)),
    S("public_body_deploys_critical_infrastructure", answers_of("2") | PUBLIC_BODY, "high_risk", {code("2")},
      no_obligations={FRIA}),
    S("private_bank_deploys_credit_scoring", answers_of("5(b)"), "high_risk", {code("5(b)")},
      obligations={FRIA: "2027-12-02"}, rulesets=("2026-omnibus",)),
    S("private_insurer_deploys_pricing", answers_of("5(c)"), "high_risk", {code("5(c)")},
      obligations={FRIA: "2026-08-02"}, rulesets=("2024",)),
    S("private_company_deploys_recruitment", answers_of("4(a)"), "high_risk", {code("4(a)")},
      no_obligations={FRIA}),
    S("provider_only_of_credit_scoring", answers_of("5(b)", operator_role=["provider"]), "high_risk",
      {code("5(b)")}, obligations={"hr_annex_iii_requirements": "2026-08-02"}, rulesets=("2024",),
      no_obligations={FRIA, "art26_deployer"}),
    S("deployer_only_of_recruitment", answers_of("4(a)", operator_role=["deployer"]) | PUBLIC_BODY, "high_risk",
      {code("4(a)")}, obligations={"art26_deployer": "2027-12-02", FRIA: "2027-12-02"},
      rulesets=("2026-omnibus",), no_obligations=PROVIDER_OBLIGATIONS),
    # --- the exceptions the text of Annex III makes, as answers ---------------------------------
    S("biometric_verification_only",
      {"annex_iii_areas": ["biometrics"], "annex_iii_1_biometrics": ["verification_only"]}, "minimal",
      {"annex_iii_excluded_use", "minimal_risk"}, absent=NOT_HIGH_RISK,
      flags={"high_risk": False}, no_obligations=PROVIDER_OBLIGATIONS),
    S("cybersecurity_component_of_critical_infrastructure",
      {"annex_iii_areas": ["critical_infrastructure"], "annex_iii_2_critical_infrastructure": "cybersecurity_only"},
      "minimal", {"annex_iii_excluded_use"}, absent=NOT_HIGH_RISK),
    S("forecasting_in_critical_infrastructure",
      {"annex_iii_areas": ["critical_infrastructure"], "annex_iii_2_critical_infrastructure": "other_use"},
      "minimal", {"minimal_risk"}, absent=NOT_HIGH_RISK | {"annex_iii_excluded_use"}),
    S("financial_fraud_detection",
      {"annex_iii_areas": ["essential_services"], "annex_iii_5_essential_services": ["fraud_detection"]},
      "minimal", {"annex_iii_excluded_use"}, absent=NOT_HIGH_RISK),
    S("fraud_detection_with_credit_scoring",
      answers_of("5(b)") | {"annex_iii_5_essential_services": ["creditworthiness", "fraud_detection"]},
      "high_risk", {code("5(b)"), "annex_iii_excluded_use"}),
    S("travel_document_verification_only",
      {"annex_iii_areas": ["migration"], "annex_iii_7_migration": ["travel_documents_only"]}, "minimal",
      {"annex_iii_excluded_use"}, absent=NOT_HIGH_RISK),
    S("campaign_logistics",
      {"annex_iii_areas": ["justice_democracy"], "annex_iii_8_justice_democracy": ["campaign_logistics"]},
      "minimal", {"annex_iii_excluded_use"}, absent=NOT_HIGH_RISK),
    S("area_without_a_listed_use", {"annex_iii_areas": ["education"], "annex_iii_3_education": ["none"]},
      "minimal", {"minimal_risk"}, absent=NOT_HIGH_RISK),
    # --- several points, and the derogation on one of them --------------------------------------
    S("recruitment_and_worker_monitoring",
      answers_of("4(a)") | {"annex_iii_4_employment": ["recruitment", "work_relationships"]}, "high_risk",
      {code("4(a)"), code("4(b)")}),
    S("credit_scoring_with_derogation",
      answers_of("5(b)") | {"derogation_conditions": ["preparatory"], "no_significant_risk": "yes",
                            "profiling": "no"},
      "minimal", {"annex_iii_derogation", "derogation_documentation"}, absent=NOT_HIGH_RISK,
      no_obligations={FRIA, "art26_deployer", "hr_annex_iii_registration"},
      obligations={"art6_4_documentation": "2026-08-02", "art49_2_registration": "2026-08-02"},
      rulesets=("2024",)),
]


def test_every_point_of_annex_iii_is_covered():
    assert len(POINTS) == 25
    assert {p for p, *_ in POINTS} == {
        "1(a)", "1(b)", "1(c)", "2", "3(a)", "3(b)", "3(c)", "3(d)", "4(a)", "4(b)", "5(a)", "5(b)", "5(c)",
        "5(d)", "6(a)", "6(b)", "6(c)", "6(d)", "6(e)", "7(a)", "7(b)", "7(c)", "7(d)", "8(a)", "8(b)"}


@pytest.mark.parametrize(("scenario", "version"),
                         [pytest.param(s, v, id=f"{s.name}[{v}]") for s in SCENARIOS for v in s.rulesets])
def test_scenario(scenario: Scenario, version: str):
    check(scenario, version)


# Citations of the point, as each language version of the Official Journal writes them.
CITATIONS = {"en": "Annex III, point {p}", "fr": "annexe III, point {fr}", "nl": "bijlage III, punt {nl}"}


def _styles(point: str) -> dict[str, str]:
    if "(" not in point:
        return {"p": point, "fr": point, "nl": point}
    number, letter = point[0], point[2]
    return {"p": point, "fr": f"{number} {letter})", "nl": f"{number}, {letter})"}


@pytest.mark.parametrize("version", BOTH)
@pytest.mark.parametrize(("point", "area", "question", "option"), POINTS, ids=[p for p, *_ in POINTS])
@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_conclusion_cites_the_point(version, point, area, question, option, language):
    ruleset = load_ruleset(version)
    result = classify(ruleset, answers_for(ruleset, point_answers(point, area, question, option)),
                      language=language)
    assert result.classification == RiskClass.HIGH_RISK
    (conclusion,) = [c for c in result.conclusions if c.code == code(point)]
    assert conclusion.article == f"Art. 6(2), Annex III, point {point}"
    assert CITATIONS[language].format(**_styles(point)) in conclusion.title
    assert CITATIONS[language].format(**_styles(point)) in conclusion.rationale


def test_the_point_question_is_asked_only_for_its_area():
    ruleset = load_ruleset()
    answers = answers_for(ruleset, {"annex_iii_areas": ["employment"]})
    result = classify(ruleset, answers)
    assert result.classification == RiskClass.INCOMPLETE
    assert result.missing_answers == ("annex_iii_4_employment",)
    assert "Annex III, point 4" in result.missing[0].text
