"""Rule-set validation: broken copies of the shipped YAML must be rejected with a precise error."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance.ai_act import RuleSetError, clear_ruleset_cache, engine, load_ruleset, validate_ruleset
from compliance.ai_act.checks import check_rulesets

VERSIONS = ("2024", "2026-omnibus")


@functools.cache
def _shipped(version: str) -> dict[str, Any]:
    return yaml.safe_load((engine.RULESET_DIR / f"{version}.yaml").read_bytes())


def fresh(version: str = "2026-omnibus") -> dict[str, Any]:
    return copy.deepcopy(_shipped(version))


def question(raw: dict[str, Any], qid: str) -> dict[str, Any]:
    return next(q for q in raw["questions"] if q["id"] == qid)


def rule(raw: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in raw["rules"] if r["code"] == code)


def errors_after(mutate: Callable[[dict[str, Any]], Any], version: str = "2026-omnibus") -> list[str]:
    raw = fresh(version)
    mutate(raw)
    return validate_ruleset(raw)


def assert_error(errors: list[str], *fragments: str) -> None:
    assert any(all(fragment in error for fragment in fragments) for error in errors), errors


@pytest.mark.parametrize("version", VERSIONS)
def test_shipped_rulesets_are_valid(version: str):
    assert validate_ruleset(fresh(version)) == []


# --- unknown ids --------------------------------------------------------------------------------


def test_show_if_with_unknown_question_id():
    errors = errors_after(lambda raw: question(raw, "interaction_obvious").update(
        show_if={"answer": "talks_to_people", "equals": "yes"}))
    assert_error(errors, "question 'interaction_obvious'", "unknown question id 'talks_to_people'")


def test_rule_with_unknown_question_id():
    errors = errors_after(lambda raw: rule(raw, "high_risk_annex_i").update(
        when={"answer": "annex_one_product", "equals": "yes"}))
    assert_error(errors, "rule 'high_risk_annex_i'", "missing answer", "'annex_one_product'")


def test_rule_with_missing_option():
    errors = errors_after(lambda raw: rule(raw, "prohibited_art5_1a").update(
        when={"answer": "prohibited_practices", "includes": "mind_control"}))
    assert_error(
        errors, "rule 'prohibited_art5_1a'", "missing option 'mind_control'", "'prohibited_practices'"
    )


def test_obligation_with_unknown_conclusion_and_date():
    def mutate(raw: dict[str, Any]) -> None:
        raw["obligations"][0]["when"] = {"conclusion": "prohibited_art5_1z"}
        raw["obligations"][0]["applies_from"] = "someday"

    errors = errors_after(mutate)
    assert_error(errors, "conclusion 'prohibited_art5_1z' must name a rule")
    assert_error(errors, "applies_from must name a key of 'dates'", "'someday'")


def test_rule_may_only_use_earlier_conclusions():
    # derogation_documentation refers to annex_iii_derogation; moving it first breaks the order.
    def mutate(raw: dict[str, Any]) -> None:
        moved = rule(raw, "derogation_documentation")
        raw["rules"].remove(moved)
        raw["rules"].insert(0, moved)

    assert_error(errors_after(mutate), "rule 'derogation_documentation'",
                 "conclusion 'annex_iii_derogation' must name an earlier rule")


# --- unreachable questions ----------------------------------------------------------------------


def test_show_if_referencing_a_later_question():
    errors = errors_after(lambda raw: question(raw, "pre_market_rnd").update(
        show_if={"answer": "trains_model", "equals": "yes"}))
    assert_error(
        errors, "question 'pre_market_rnd'", "unreachable", "'trains_model', which is not asked before it"
    )


def test_show_if_expecting_a_value_that_is_not_an_option():
    errors = errors_after(lambda raw: question(raw, "interaction_obvious").update(
        show_if={"answer": "interacts_with_persons", "equals": "sometimes"}))
    assert_error(
        errors, "question 'interaction_obvious'", "unreachable", "'sometimes'", "options are yes, no"
    )


def test_show_if_that_can_never_be_true():
    errors = errors_after(lambda raw: question(raw, "interaction_obvious").update(show_if={"all": [
        {"answer": "interacts_with_persons", "equals": "yes"},
        {"answer": "interacts_with_persons", "equals": "no"},
    ]}))
    assert errors == ["question 'interaction_obvious': unreachable question: its show_if can never be true"]


def test_question_behind_an_unreachable_question_is_unreachable_too():
    def mutate(raw: dict[str, Any]) -> None:
        question(raw, "trains_model")["show_if"] = {"all": [
            {"answer": "research_only", "equals": "yes"}, {"not": {"answer": "research_only", "in": ["yes"]}},
        ]}

    errors = errors_after(mutate)
    unreachable = {e.split("'")[1] for e in errors if "can never be true" in e}
    assert unreachable == {"trains_model", "model_modalities", "modifies_gpai_model", "base_model_compute_known",
                           "base_model_systemic", "open_weights", "open_weights_monetised"}


def test_negated_show_if_on_an_optional_question_is_reachable():
    # "not yes" is true while the question is unanswered: reachable, no error.
    assert errors_after(lambda raw: question(raw, "interaction_obvious").update(
        show_if={"not": {"answer": "interacts_with_persons", "equals": "yes"}})) == []


def test_show_if_cannot_use_compute_or_conclusions():
    errors = errors_after(lambda raw: question(raw, "open_weights").update(
        show_if={"any": [{"compute": "cumulative_flop", "gt": "gpai_flop"}, {"conclusion": "gpai_model"}]}))
    assert_error(errors, "show_if can only depend on earlier answers, not on compute")
    assert_error(errors, "show_if can only depend on earlier answers, not on conclusions")


# --- translations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda raw: question(raw, "profiling")["text"].pop("nl"), "question 'profiling'.text"),
        (lambda raw: question(raw, "profiling")["help"].update(nl="  "), "question 'profiling'.help"),
        (lambda raw: question(raw, "route_to_market")["options"][0]["label"].pop("nl"),
         "question 'route_to_market'.options['own_product'].label"),
        (lambda raw: rule(raw, "minimal_risk")["rationale"].pop("nl"), "rule 'minimal_risk'.rationale"),
        (lambda raw: rule(raw, "minimal_risk")["title"].pop("nl"), "rule 'minimal_risk'.title"),
        (lambda raw: raw["obligations"][0]["text"].pop("nl"), "obligation 'art5_cease'.text"),
    ],
)
def test_missing_nl_translation(mutate: Callable[[dict[str, Any]], Any], where: str):
    assert f"{where}: missing nl translation" in errors_after(mutate)


def test_unknown_language_and_placeholder():
    def mutate(raw: dict[str, Any]) -> None:
        question(raw, "profiling")["text"]["de"] = "Profiling?"
        rule(raw, "minimal_risk")["rationale"]["fr"] += " Depuis le {big_bang}."

    errors = errors_after(mutate)
    assert_error(errors, "question 'profiling'.text", "unknown language 'de'")
    assert_error(errors, "rule 'minimal_risk'.rationale.fr", "unknown placeholder {big_bang}")


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_question_id():
    def mutate(raw: dict[str, Any]) -> None:
        raw["questions"].append(copy.deepcopy(question(raw, "profiling")))

    assert_error(errors_after(mutate), "question 'profiling'", "duplicate question id 'profiling'")


def test_duplicate_option_value():
    def mutate(raw: dict[str, Any]) -> None:
        options = question(raw, "synthetic_content")["options"]
        options.append(copy.deepcopy(options[0]))

    assert_error(errors_after(mutate), "question 'synthetic_content'", "duplicate option value 'audio'")


def test_duplicate_rule_and_obligation_codes():
    def mutate(raw: dict[str, Any]) -> None:
        raw["rules"].append(copy.deepcopy(rule(raw, "minimal_risk")))
        raw["obligations"].append(copy.deepcopy(raw["obligations"][0]))

    errors = errors_after(mutate)
    assert_error(errors, "duplicate rule code 'minimal_risk'")
    assert_error(errors, "duplicate obligation code 'art5_cease'")


# --- structure --------------------------------------------------------------------------------------


def test_structural_mistakes_are_all_reported():
    def mutate(raw: dict[str, Any]) -> None:
        question(raw, "profiling")["show_iff"] = {"answer": "no_significant_risk", "equals": "yes"}
        question(raw, "open_weights")["type"] = "boolean"
        rule(raw, "gpai_model")["classification"] = "dangerous"
        rule(raw, "gpai_model")["flags"] = ["spicy"]
        rule(raw, "gpai_systemic_risk")["when"] = {"compute": "cumulative_flop", "gt": "systemic", "lt": 1}
        rule(raw, "transparency_art50_2")["when"] = {"answer": "synthetic_content", "equals": "text"}
        raw["thresholds"]["gpai_flop"] = "1e23"
        del raw["thresholds"]["systemic_flop"]
        raw["dates"]["annex_i"] = "2028-02-30"

    errors = errors_after(mutate)
    assert_error(errors, "question 'profiling'", "unknown key 'show_iff'")
    assert_error(errors, "question 'open_weights'", "type must be one of")
    assert_error(errors, "rule 'gpai_model'", "unknown classification 'dangerous'")
    assert_error(errors, "rule 'gpai_model'", "flags must be a list drawn from")
    assert_error(errors, "rule 'gpai_systemic_risk'", "exactly one of gt, gte, lt, lte")
    assert_error(errors, "rule 'transparency_art50_2'", "'equals' cannot be used on multi_choice")
    assert_error(errors, "thresholds.gpai_flop", "write 1.0e+23")
    assert_error(errors, "missing required threshold 'systemic_flop'")
    assert_error(errors, "dates.annex_i", "not an ISO date")
    assert len(errors) >= 9


def test_not_a_mapping():
    assert validate_ruleset(["questions"]) == ["a rule set must be a mapping at the top level"]


# --- loading a broken file ------------------------------------------------------------------------


@pytest.fixture
def ruleset_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(engine, "RULESET_DIR", tmp_path)
    clear_ruleset_cache()
    yield tmp_path
    clear_ruleset_cache()


def write(directory: Path, name: str, raw: dict[str, Any]) -> None:
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def test_load_ruleset_raises_with_every_error(ruleset_dir: Path):
    raw = fresh()
    question(raw, "profiling")["text"].pop("nl")
    raw["questions"].append(copy.deepcopy(question(raw, "profiling")))
    write(ruleset_dir, "2026-omnibus", raw)
    with pytest.raises(RuleSetError) as excinfo:
        load_ruleset("2026-omnibus")
    assert excinfo.value.version == "2026-omnibus"
    assert "question 'profiling'.text: missing nl translation" in excinfo.value.errors
    assert_error(excinfo.value.errors, "duplicate question id 'profiling'")
    assert "missing nl translation" in str(excinfo.value)


def test_version_must_match_the_file_name(ruleset_dir: Path):
    write(ruleset_dir, "2027", fresh())
    with pytest.raises(RuleSetError, match="does not match the file name"):
        load_ruleset("2027")


def test_invalid_yaml(ruleset_dir: Path):
    (ruleset_dir / "2027.yaml").write_text("questions: [unclosed", encoding="utf-8")
    with pytest.raises(RuleSetError, match="not valid YAML"):
        load_ruleset("2027")


def test_system_check_passes_for_the_shipped_rulesets():
    assert check_rulesets() == []


def test_system_check_reports_broken_rulesets(ruleset_dir: Path):
    raw = fresh("2024")
    rule(raw, "high_risk_annex_i")["when"] = {"answer": "annex_one_product", "equals": "yes"}
    write(ruleset_dir, "2024", raw)
    errors = check_rulesets()
    assert {e.id for e in errors} == {"compliance.E001", "compliance.E002"}  # default missing + broken 2024
    assert any("annex_one_product" in e.msg for e in errors)


# --- checks (missing inputs, contradictions) and declared facts --------------------------------------


def test_check_with_unknown_kind_and_a_conclusion():
    def mutate(raw: dict[str, Any]) -> None:
        raw["checks"][0]["kind"] = "warning"
        raw["checks"][1]["when"] = {"conclusion": "gpai_model"}

    errors = errors_after(mutate)
    assert_error(errors, "check 'training_compute'", "kind must be one of missing, contradiction", "'warning'")
    assert_error(errors, "check 'base_model_compute'", "a check can only depend on answers, compute and facts")


def test_check_code_must_not_reuse_a_question_id():
    errors = errors_after(lambda raw: raw["checks"][0].update(code="trains_model"))
    assert_error(errors, "check 'trains_model'", "duplicate code 'trains_model'")


def test_unknown_fact_and_fact_in_show_if():
    def mutate(raw: dict[str, Any]) -> None:
        raw["checks"][2]["when"] = {"fact": "training_promised"}
        question(raw, "open_weights")["show_if"] = {"fact": "training_declared"}

    errors = errors_after(mutate)
    assert_error(errors, "unknown fact 'training_promised'", "training_declared, no_training_declared")
    assert_error(errors, "question 'open_weights'", "show_if can only depend on earlier answers, not on declared facts")


def test_checks_are_optional_for_a_rule_set():
    raw = fresh()
    raw.pop("checks")
    assert validate_ruleset(raw) == []
