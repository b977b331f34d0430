"""Downstream modifiers of general-purpose AI models and the open-source exemption.

From the Commission guidelines on the scope of the obligations for providers of general-purpose AI
models (18 July 2025), section 3.2: a downstream modifier becomes the provider of the modified model
when the modification uses more than one third of the original model's training compute. When that
figure cannot be known or estimated, the threshold is one third of 1e23 FLOP, or one third of 1e25
FLOP when the original model has systemic risk. Section 3.2.2: whoever becomes the provider of a
modification of a model with systemic risk provides a model with systemic risk (Art. 52(1), Art. 55).
Art. 53(2) and recital 103: the open-source exemption does not cover a monetised model.
"""

from __future__ import annotations

import pytest

from compliance.ai_act import load_ruleset

from .ai_act_cases import BOTH, FINE_TUNE, LLM, OPEN_WEIGHTS, S, Scenario, check, flop

UNKNOWN_BASE = FINE_TUNE | {"base_model_compute_known": "no"}
SYSTEMIC_BASE = {"base_model_systemic": "yes"}
SYSTEMIC_DUTIES = {"art52_notification", "art55_1a_evaluation", "art55_1b_risk_mitigation",
                   "art55_1c_serious_incidents", "art55_1d_cybersecurity"}
GPAI_DATE = "2025-08-02"

SCENARIOS: list[Scenario] = [
    # --- original model's compute unknown: one third of 1e23 FLOP (3.33e22) ---------------------
    S("unknown_base_above_a_third_of_1e23", UNKNOWN_BASE, "gpai", {"gpai_modifier_provider"},
      absent={"gpai_downstream_modifier"}, compute=flop(10**9, 5_700 * 10**9),  # 3.42e22 FLOP
      flags={"modifier_is_provider": True, "systemic_risk": False},
      obligations={"art53_1c_copyright_policy": GPAI_DATE, "art53_1d_training_summary": GPAI_DATE}),
    S("unknown_base_below_a_third_of_1e23", UNKNOWN_BASE, "minimal", {"gpai_downstream_modifier"},
      absent={"gpai_modifier_provider"}, compute=flop(10**9, 5_500 * 10**9),  # 3.3e22 FLOP
      flags={"modifier_is_provider": False}),
    # --- original model with systemic risk, compute unknown: one third of 1e25 FLOP (3.33e24) ----
    S("unknown_systemic_base_above_a_third_of_1e25", UNKNOWN_BASE | SYSTEMIC_BASE, "gpai_systemic",
      {"gpai_modifier_provider", "gpai_modifier_systemic", "gpai_systemic_notification"},
      compute=flop(10**11, 5_700 * 10**9),  # 3.42e24 FLOP
      flags={"modifier_is_provider": True, "systemic_risk": True},
      obligations=dict.fromkeys(SYSTEMIC_DUTIES, GPAI_DATE)),
    S("unknown_systemic_base_below_a_third_of_1e25", UNKNOWN_BASE | SYSTEMIC_BASE, "minimal",
      {"gpai_downstream_modifier"}, absent={"gpai_modifier_provider", "gpai_modifier_systemic"},
      compute=flop(10**11, 5_500 * 10**9),  # 3.3e24 FLOP: above 1e23 / 3, but the systemic base sets 1e25 / 3
      no_obligations=SYSTEMIC_DUTIES),
    # --- original model with systemic risk, compute known: one third of its compute ---------------
    S("systemic_base_modified_with_more_than_a_third", FINE_TUNE | SYSTEMIC_BASE, "gpai_systemic",
      {"gpai_modifier_provider", "gpai_modifier_systemic"}, absent={"gpai_systemic_risk"},
      compute=flop(8 * 10**9, 2 * 10**12, base=2.85e23),  # 9.6e22 FLOP, 34 % of the original
      obligations=dict.fromkeys(SYSTEMIC_DUTIES, GPAI_DATE)),
    S("systemic_base_modified_with_less_than_a_third", FINE_TUNE | SYSTEMIC_BASE, "minimal",
      {"gpai_downstream_modifier"}, absent={"gpai_modifier_systemic"},
      compute=flop(8 * 10**9, 2 * 10**12, base=2.9e23)),  # 33.1 % of the original
    S("systemic_base_open_weights_keep_every_duty", FINE_TUNE | SYSTEMIC_BASE | OPEN_WEIGHTS, "gpai_systemic",
      {"gpai_modifier_systemic"}, absent={"gpai_open_source_exemption"},
      compute=flop(8 * 10**9, 2 * 10**12, base=2.85e23),
      obligations={"art53_1a_technical_documentation": GPAI_DATE, "art53_1b_downstream_information": GPAI_DATE}),
    # --- Art. 53(2): open weights, monetised or not ------------------------------------------------
    S("open_weights_monetised", LLM | OPEN_WEIGHTS | {"open_weights_monetised": "yes"}, "gpai", {"gpai_model"},
      absent={"gpai_open_source_exemption"}, compute=flop(10**9, 17_000 * 10**9),
      obligations={"art53_1a_technical_documentation": GPAI_DATE, "art53_1b_downstream_information": GPAI_DATE}),
    S("open_weights_free", LLM | OPEN_WEIGHTS, "gpai", {"gpai_open_source_exemption"},
      compute=flop(10**9, 17_000 * 10**9),
      no_obligations={"art53_1a_technical_documentation", "art53_1b_downstream_information"}),
]


@pytest.mark.parametrize(("scenario", "version"),
                         [pytest.param(s, v, id=f"{s.name}[{v}]") for s in SCENARIOS for v in s.rulesets])
def test_scenario(scenario: Scenario, version: str):
    check(scenario, version)


@pytest.mark.parametrize("version", BOTH)
def test_fallback_thresholds_are_a_third_of_the_presumption_thresholds(version: str):
    thresholds = load_ruleset(version).thresholds
    assert thresholds["modifier_fallback_gpai_flop"] == pytest.approx(thresholds["gpai_flop"] / 3, rel=1e-15)
    assert thresholds["modifier_fallback_systemic_flop"] == pytest.approx(thresholds["systemic_flop"] / 3,
                                                                          rel=1e-15)
