"""The Digital Omnibus on AI as the 2026-omnibus rule set encodes it, against the 2024 text.

From the provisional agreement of 7 May 2026 (adopted in June 2026): Art. 4 becomes an obligation to
take measures supporting AI literacy; generative systems already on the market on 2 August 2026 have
until 2 December 2026 to mark their output (Art. 50(2)); machinery leaves Annex I, Section A; the
registration of Art. 6(3) systems (Art. 49(2)) stays.
"""

from __future__ import annotations

import pytest

from compliance.ai_act import classify, load_ruleset, visible_questions

from .ai_act_cases import DEROGATION, S, Scenario, answers_for, check

GENERATOR = {"synthetic_content": ["image"], "operator_role": ["provider"]}

SCENARIOS: list[Scenario] = [
    S("generator_on_the_market_before_august_2026", GENERATOR | {"synthetic_content_legacy": "yes"},
      "transparency", {"transparency_art50_2"}, rulesets=("2026-omnibus",),
      obligations={"art50_2_mark_output_legacy": "2026-12-02"}, no_obligations={"art50_2_mark_output"}),
    S("generator_placed_on_the_market_later", GENERATOR | {"synthetic_content_legacy": "no"}, "transparency",
      {"transparency_art50_2"}, rulesets=("2026-omnibus",), obligations={"art50_2_mark_output": "2026-08-02"},
      no_obligations={"art50_2_mark_output_legacy"}),
    S("generator_under_the_2024_text", GENERATOR, "transparency", {"transparency_art50_2"}, rulesets=("2024",),
      obligations={"art50_2_mark_output": "2026-08-02"}),
    S("derogation_still_registered", DEROGATION | {"operator_role": ["provider"]}, "minimal",
      {"annex_iii_derogation"}, rulesets=("2026-omnibus",),
      obligations={"art49_2_registration": "2027-12-02", "art6_4_documentation": "2027-12-02"}),
]


@pytest.mark.parametrize(("scenario", "version"),
                         [pytest.param(s, v, id=f"{s.name}[{v}]") for s in SCENARIOS for v in s.rulesets])
def test_scenario(scenario: Scenario, version: str):
    check(scenario, version)


def literacy(version: str):
    ruleset = load_ruleset(version)
    result = classify(ruleset, answers_for(ruleset, {}))
    return next(o for o in result.obligations if o.code == "art4_ai_literacy")


def test_ai_literacy_becomes_an_obligation_of_means_without_a_new_date():
    before, after = literacy("2024"), literacy("2026-omnibus")
    assert before.text.startswith("Ensure a sufficient level of AI literacy")
    assert after.text.startswith("Take measures to support the AI literacy")
    assert before.applies_from == after.applies_from
    assert after.applies_from.isoformat() == "2025-02-02"
    assert "Digital Omnibus" in after.article


def test_the_2024_text_does_not_ask_about_the_marking_transition():
    ruleset = load_ruleset("2024")
    ids = [q.id for q in visible_questions(ruleset, answers_for(ruleset, GENERATOR))]
    assert "synthetic_content" in ids and "synthetic_content_legacy" not in ids


def section_labels(version: str) -> dict[str, str]:
    question = load_ruleset(version).question("annex_i_section")
    return {option.value: option.label["en"] for option in question.options}


def test_machinery_moves_from_section_a_to_section_b():
    before, after = section_labels("2024"), section_labels("2026-omnibus")
    assert "machinery" in before["section_a"] and "machinery" not in before["section_b"]
    assert "machinery" not in after["section_a"] and "machinery" in after["section_b"]
