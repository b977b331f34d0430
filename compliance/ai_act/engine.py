"""EU AI Act risk assessment: versioned rule sets and a pure classifier.

The questionnaire, the rules that turn answers into conclusions, the obligations and their dates
all live in YAML files under ``rulesets/`` (one file per legal state: ``2024``, ``2026-omnibus``).
Nothing law-specific is coded here: this module only loads and validates a rule set and interprets
its small condition language, so that a change in the law is a new data file, and stored answers
can be re-evaluated against any version (the result carries the file's SHA-256).

Condition language (a mapping with exactly one operator key)::

    {all: [cond, ...]}   {any: [cond, ...]}   {not: cond}
    {answer: q_id, equals: value}          # yes_no / single_choice
    {answer: q_id, in: [value, ...]}       # yes_no / single_choice
    {answer: q_id, includes: value}        # multi_choice
    {answer: q_id, includes_any: [...]}    # multi_choice
    {compute: cumulative_flop, gt: systemic_flop}   # gt/gte/lt/lte; number or threshold name
    {conclusion: rule_code}                # an earlier rule fired (obligations: any rule)
    {fact: training_declared}              # a fact declared outside the questionnaire (FACT_NAMES)

An unanswered (or hidden) question makes every ``answer`` atom false, so ``not`` is true.
Compute atoms are false when no estimate (or the compared figure) is available.

No conclusion is drawn from incomplete or contradictory answers: while a visible question is
unanswered, a ``checks`` entry of kind ``missing`` holds (an input the path needs, such as the
training compute) or one of kind ``contradiction`` holds, the result is ``incomplete``, with no
conclusion and no obligation, and says what is missing or which answers contradict each other.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import re
import string
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .compute import ComputeEstimate, ComputeInputs, estimate_compute
from .risk import RiskClass

LANGUAGES: tuple[str, ...] = ("en", "fr", "nl")


def supported_language(code: str | None) -> str:
    """The questionnaire language for a Django language code ("fr-be" -> "fr"); English otherwise."""
    base = (code or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"
DEFAULT_RULESET = "2026-omnibus"
RULESET_DIR = Path(__file__).resolve().parent / "rulesets"


class QuestionType(StrEnum):
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"


#: Precedence of the overall classification, strongest first. ``out_of_scope`` is not in this
#: list: it wins over everything except ``prohibited`` (see ``_overall_classification``).
PRECEDENCE: tuple[RiskClass, ...] = (
    RiskClass.PROHIBITED,
    RiskClass.HIGH_RISK,
    RiskClass.GPAI_SYSTEMIC,
    RiskClass.GPAI,
    RiskClass.TRANSPARENCY,
)
ETHICS_REVIEW_CLASSES = frozenset(PRECEDENCE)

FLAG_NAMES: tuple[str, ...] = (
    "prohibited",
    "high_risk",
    "gpai",
    "systemic_risk",
    "modifier_is_provider",
    "derogation_applied",
    "profiling_override",
)
# Flags implied by a rule's classification, so the data cannot contradict itself.
_CLASS_FLAGS: Mapping[RiskClass, tuple[str, ...]] = {
    RiskClass.PROHIBITED: ("prohibited",),
    RiskClass.HIGH_RISK: ("high_risk",),
    RiskClass.GPAI_SYSTEMIC: ("gpai", "systemic_risk"),
    RiskClass.GPAI: ("gpai",),
}

#: Facts that come with the answers from outside the questionnaire (the application's own steps, or
#: the compute figures of an answers file), so that checks can compare them with the answers.
FACT_NAMES: tuple[str, ...] = (
    "training_declared",     # the project declares model training (training or fine-tuning, model size)
    "no_training_declared",  # the project declares inference or other work without training
    "gpu_peak_unknown",      # GPU-hours requested on a GPU type without a peak figure (gpus.yaml)
)

COMPUTE_FIELDS: tuple[str, ...] = (
    "hardware_flop",
    "architecture_flop",
    "estimate_flop",
    "cumulative_flop",
    "base_model_flop",
    "base_model_fraction",
)
REQUIRED_THRESHOLDS: tuple[str, ...] = ("gpai_flop", "systemic_flop", "modifier_fraction")
_COMPARATORS: Mapping[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_ANSWER_OPS: Mapping[str, frozenset[QuestionType]] = {
    "equals": frozenset({QuestionType.YES_NO, QuestionType.SINGLE_CHOICE}),
    "in": frozenset({QuestionType.YES_NO, QuestionType.SINGLE_CHOICE}),
    "includes": frozenset({QuestionType.MULTI_CHOICE}),
    "includes_any": frozenset({QuestionType.MULTI_CHOICE}),
}
_LIST_OPS = frozenset({"in", "includes_any"})

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
# Past this many combinations the reachability check gives up and assumes "reachable".
_MAX_ASSIGNMENTS = 20_000

_TOP_KEYS = frozenset(
    {"version", "title", "source", "dates", "thresholds", "questions", "checks", "rules", "obligations"}
)
_QUESTION_KEYS = frozenset({"id", "type", "text", "help", "article", "url", "options", "show_if"})
_OPTION_KEYS = frozenset({"value", "label", "exclusive"})
_RULE_KEYS = frozenset(
    {"code", "title", "rationale", "article", "url", "when", "classification", "flags"}
)
_OBLIGATION_KEYS = frozenset({"code", "text", "article", "url", "applies_from", "when"})
_CHECK_KEYS = frozenset({"code", "kind", "text", "when"})


class CheckKind(StrEnum):
    MISSING = "missing"              # an input the path needs is not there
    CONTRADICTION = "contradiction"  # two answers (or an answer and a declared fact) cannot both hold


# --------------------------------------------------------------------------------------------
# Errors


class RuleSetError(Exception):
    """A rule set cannot be used; ``errors`` lists every problem found, not just the first."""

    def __init__(self, version: str, errors: Sequence[str]):
        self.version = version
        self.errors = list(errors)
        super().__init__(f"invalid AI Act rule set {version!r}:\n- " + "\n- ".join(self.errors))


class UnknownRuleSetError(RuleSetError):
    def __init__(self, version: str):
        known = ", ".join(available_rulesets()) or "none"
        super().__init__(version, [f"unknown rule set {version!r} (available: {known})"])


class AnswerError(ValueError):
    """Answers that do not fit the questionnaire; ``errors`` maps question id to a message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{qid}: {msg}" for qid, msg in self.errors.items()))


# --------------------------------------------------------------------------------------------
# Rule set objects (immutable: one cached instance is shared by every request)


Translations = Mapping[str, str]


@dataclass(frozen=True)
class Option:
    value: str
    label: Translations
    exclusive: bool = False


_YES_NO_OPTIONS: tuple[Option, ...] = (
    Option("yes", MappingProxyType({"en": "Yes", "fr": "Oui", "nl": "Ja"})),
    Option("no", MappingProxyType({"en": "No", "fr": "Non", "nl": "Nee"})),
)


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    text: Translations
    help: Translations
    article: str
    url: str
    options: tuple[Option, ...]
    show_if: Mapping[str, Any] | None = None

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Rule:
    code: str
    title: Translations
    rationale: Translations
    article: str
    url: str
    when: Mapping[str, Any]
    classification: RiskClass | None = None
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    code: str
    kind: CheckKind
    text: Translations
    when: Mapping[str, Any]


@dataclass(frozen=True)
class Obligation:
    code: str
    text: Translations
    article: str
    url: str
    date_key: str
    applies_from: date
    when: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class RuleSet:
    version: str
    sha256: str
    title: Translations
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    obligations: tuple[Obligation, ...]
    dates: Mapping[str, date]
    thresholds: Mapping[str, float]
    checks: tuple[Check, ...] = ()
    _by_id: Mapping[str, Question] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", MappingProxyType({q.id: q for q in self.questions}))

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    @property
    def conclusion_codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)

    def estimate(self, inputs: ComputeInputs) -> ComputeEstimate:
        """Compute estimate with this rule set's thresholds (so its warnings match the rules)."""
        return estimate_compute(inputs, self.thresholds)


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Conclusion:
    code: str
    title: str
    article: str
    url: str
    rationale: str
    classification: RiskClass | None


@dataclass(frozen=True)
class ObligationResult:
    code: str
    article: str
    url: str
    text: str
    applies_from: date


@dataclass(frozen=True)
class Finding:
    """Something that keeps the assessment from concluding: a missing answer or input, or a contradiction."""

    code: str
    text: str


@dataclass(frozen=True)
class AssessmentResult:
    ruleset: str
    ruleset_sha256: str
    language: str
    classification: RiskClass
    flags: Mapping[str, bool]
    conclusions: tuple[Conclusion, ...]
    obligations: tuple[ObligationResult, ...]
    compute: ComputeEstimate | None
    #: Ids of the unanswered questions of the path, then codes of the missing inputs.
    missing_answers: tuple[str, ...]
    #: The same, each with the question (or the input) in the result's language.
    missing: tuple[Finding, ...] = ()
    contradictions: tuple[Finding, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing_answers and not self.contradictions

    @property
    def conclusion_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.conclusions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset": self.ruleset,
            "ruleset_sha256": self.ruleset_sha256,
            "language": self.language,
            "classification": str(self.classification),
            "complete": self.complete,
            "missing_answers": list(self.missing_answers),
            "missing": [{"code": m.code, "text": m.text} for m in self.missing],
            "contradictions": [{"code": c.code, "text": c.text} for c in self.contradictions],
            "flags": dict(self.flags),
            "conclusions": [
                {
                    "code": c.code,
                    "title": c.title,
                    "article": c.article,
                    "url": c.url,
                    "rationale": c.rationale,
                }
                for c in self.conclusions
            ],
            "obligations": [
                {
                    "code": o.code,
                    "article": o.article,
                    "url": o.url,
                    "text": o.text,
                    "applies_from": o.applies_from.isoformat(),
                }
                for o in self.obligations
            ],
            "compute": self.compute.to_dict() if self.compute is not None else None,
        }


# --------------------------------------------------------------------------------------------
# Loading


def available_rulesets() -> list[str]:
    return sorted(path.stem for path in RULESET_DIR.glob("*.yaml"))


def load_ruleset(version: str = DEFAULT_RULESET) -> RuleSet:
    """Load, validate and freeze a rule set; cached per version (failures are not cached)."""
    return _load_cached(version)  # one cache key per version, however the caller spells the call


def clear_ruleset_cache() -> None:
    """Forget loaded rule sets (tests that swap the rule-set directory)."""
    _load_cached.cache_clear()


@functools.cache
def _load_cached(version: str) -> RuleSet:
    if not _VERSION_RE.match(version) or version not in available_rulesets():
        raise UnknownRuleSetError(version)
    content = (RULESET_DIR / f"{version}.yaml").read_bytes()
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise RuleSetError(version, [f"not valid YAML: {exc}"]) from exc
    errors = validate_ruleset(raw)
    if not errors and raw["version"] != version:
        errors.append(f"version {raw['version']!r} does not match the file name {version!r}")
    if errors:
        raise RuleSetError(version, errors)
    return _build(raw, hashlib.sha256(content).hexdigest())


def _build(raw: Mapping[str, Any], sha256: str) -> RuleSet:
    """Turn a *validated* raw mapping into frozen objects, with placeholders already rendered."""
    dates = {key: _as_date(value) for key, value in raw["dates"].items()}
    thresholds = {key: float(value) for key, value in raw["thresholds"].items()}

    def tr(texts: Mapping[str, str]) -> Translations:
        # Rendered once here so that no caller (views, PDF, API) ever sees a raw {placeholder}.
        return MappingProxyType(
            {
                language: texts[language].format_map(
                    {key: format_date(value, language) for key, value in dates.items()}
                    | {key: _format_number(value) for key, value in thresholds.items()}
                )
                for language in LANGUAGES
            }
        )

    questions = tuple(
        Question(
            id=q["id"],
            type=QuestionType(q["type"]),
            text=tr(q["text"]),
            help=tr(q["help"]),
            article=q["article"],
            url=q["url"],
            options=(
                _YES_NO_OPTIONS
                if q["type"] == QuestionType.YES_NO
                else tuple(
                    Option(o["value"], tr(o["label"]), bool(o.get("exclusive", False))) for o in q["options"]
                )
            ),
            show_if=_freeze(q.get("show_if")),
        )
        for q in raw["questions"]
    )
    rules = tuple(
        Rule(
            code=r["code"],
            title=tr(r["title"]),
            rationale=tr(r["rationale"]),
            article=r["article"],
            url=r["url"],
            when=_freeze(r["when"]),
            classification=RiskClass(r["classification"]) if r.get("classification") else None,
            flags=frozenset(r.get("flags") or ()),
        )
        for r in raw["rules"]
    )
    checks = tuple(
        Check(code=c["code"], kind=CheckKind(c["kind"]), text=tr(c["text"]), when=_freeze(c["when"]))
        for c in raw.get("checks") or ()
    )
    obligations = tuple(
        Obligation(
            code=o["code"],
            text=tr(o["text"]),
            article=o["article"],
            url=o["url"],
            date_key=o["applies_from"],
            applies_from=dates[o["applies_from"]],
            when=_freeze(o["when"]),
        )
        for o in raw["obligations"]
    )
    return RuleSet(
        version=raw["version"],
        sha256=sha256,
        title=tr(raw["title"]),
        questions=questions,
        rules=rules,
        obligations=obligations,
        dates=MappingProxyType(dates),
        thresholds=MappingProxyType(thresholds),
        checks=checks,
    )


_MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
}


def format_date(value: date, language: str) -> str:
    """Long date in the given language ("2 December 2027", "1er août 2028", "2 augustus 2028")."""
    day = "1er" if language == "fr" and value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[language][value.month - 1]} {value.year}"


def _format_number(value: float) -> str:
    return f"{value:g}".replace("e+", "e")  # 1e+23 -> 1e23


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# --------------------------------------------------------------------------------------------
# Validation


def validate_ruleset(raw: Any) -> list[str]:
    """Return every problem in a raw (parsed YAML) rule set; an empty list means it is usable."""
    return _Validator(raw).run()


@dataclass
class _QInfo:
    position: int
    type: QuestionType | None
    options: tuple[str, ...]
    has_show_if: bool
    show_if: Any = None


class _Validator:
    def __init__(self, raw: Any):
        self.raw = raw
        self.errors: list[str] = []
        self.questions: dict[str, _QInfo] = {}
        self.date_keys: set[str] = set()
        self.threshold_keys: set[str] = set()

    def run(self) -> list[str]:
        raw = self.raw
        if not isinstance(raw, Mapping):
            return ["a rule set must be a mapping at the top level"]
        self._keys(raw, _TOP_KEYS, "rule set", required=("version", "title", "dates", "thresholds",
                                                          "questions", "rules", "obligations"))
        if not isinstance(raw.get("version"), str) or not _VERSION_RE.match(raw.get("version") or ""):
            self.error("version", "must be a version string such as '2026-omnibus'")
        # Dates and thresholds first: every translated text may use them as {placeholders}.
        self._dates(raw.get("dates"))
        self._thresholds(raw.get("thresholds"))
        self._translations(raw.get("title"), "title")
        questions = self._list(raw.get("questions"), "questions")
        rules = self._list(raw.get("rules"), "rules")
        obligations = self._list(raw.get("obligations"), "obligations")
        checks = self._list(raw.get("checks"), "checks")
        self._questions(questions)
        self._checks(checks)
        rule_codes = self._rules(rules)
        self._obligations(obligations, rule_codes)
        return self.errors

    # -- helpers ---------------------------------------------------------------------------

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def _keys(self, item: Mapping[str, Any], allowed: frozenset[str], where: str,
              required: Iterable[str]) -> None:
        for key in required:
            if key not in item:
                self.error(where, f"missing required key '{key}'")
        for key in item:
            if key not in allowed:
                self.error(where, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")

    def _list(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, "must be a list")
            return []
        return value

    def _translations(self, value: Any, where: str) -> None:
        if not isinstance(value, Mapping):
            self.error(where, f"must map each language ({', '.join(LANGUAGES)}) to a text")
            return
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.error(where, f"missing {language} translation")
        for language in value:
            if language not in LANGUAGES:
                self.error(where, f"unknown language '{language}'")
        self._placeholders(value, where)

    def _text_fields(self, item: Mapping[str, Any], where: str) -> None:
        if not isinstance(item.get("article"), str) or not item["article"].strip():
            self.error(where, "missing article reference")
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            self.error(where, "url must be an https:// link to the legal text")

    def _dates(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.error("dates", "must map date keys to ISO dates")
            return
        for key, raw_date in value.items():
            # Known even when invalid, so that one bad value is reported once, not at every use.
            self.date_keys.add(str(key))
            try:
                _as_date(raw_date)
            except ValueError:
                self.error(f"dates.{key}", f"{raw_date!r} is not an ISO date (YYYY-MM-DD)")

    def _thresholds(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.error("thresholds", "must map threshold names to numbers")
            return
        for key in REQUIRED_THRESHOLDS:
            if key not in value:
                self.error("thresholds", f"missing required threshold '{key}'")
        for key, number in value.items():
            self.threshold_keys.add(str(key))
            if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
                hint = " (YAML reads 1e23 as text: write 1.0e+23)" if isinstance(number, str) else ""
                self.error(f"thresholds.{key}", f"must be a positive number, got {number!r}{hint}")

    # -- questions -------------------------------------------------------------------------

    def _questions(self, questions: list[Any]) -> None:
        for position, q in enumerate(questions):
            where = f"questions[{position}]"
            if not isinstance(q, Mapping):
                self.error(where, "must be a mapping")
                continue
            qid = q.get("id")
            if isinstance(qid, str):
                where = f"question '{qid}'"
            self._keys(q, _QUESTION_KEYS, where, required=("id", "type", "text", "help", "article", "url"))
            if not isinstance(qid, str) or not _ID_RE.match(qid):
                self.error(where, "id must be lower_snake_case")
                continue
            if qid in self.questions:
                self.error(where, f"duplicate question id '{qid}'")
                continue
            try:
                qtype: QuestionType | None = QuestionType(q.get("type"))
            except ValueError:
                self.error(where, f"type must be one of {', '.join(QuestionType)}, got {q.get('type')!r}")
                qtype = None
            self._translations(q.get("text"), f"{where}.text")
            self._translations(q.get("help"), f"{where}.help")
            self._text_fields(q, where)
            options = self._options(q, qtype, where)
            self.questions[qid] = _QInfo(position, qtype, options, "show_if" in q, q.get("show_if"))

        # Second pass: show_if needs the complete index to tell "unknown" from "asked later".
        reachable: set[str] = set()
        for qid, info in self.questions.items():
            where = f"question '{qid}'"
            if not info.has_show_if:
                reachable.add(qid)
                continue
            before = len(self.errors)
            self._condition(info.show_if, f"{where}.show_if", context="show_if", position=info.position)
            if len(self.errors) > before:
                continue  # already reported, and the reason it is unreachable is in that message
            if self._satisfiable(info.show_if, reachable):
                reachable.add(qid)
            else:
                self.error(where, "unreachable question: its show_if can never be true")

    def _options(self, q: Mapping[str, Any], qtype: QuestionType | None, where: str) -> tuple[str, ...]:
        if qtype == QuestionType.YES_NO:
            if "options" in q:
                self.error(where, "yes_no questions have the built-in options yes/no; remove 'options'")
            return ("yes", "no")
        raw_options = q.get("options")
        if qtype is None:
            return ()
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            self.error(where, f"a {qtype} question needs a list of at least two options")
            return ()
        values: list[str] = []
        for index, option in enumerate(raw_options):
            owhere = f"{where}.options[{index}]"
            if not isinstance(option, Mapping):
                self.error(owhere, "must be a mapping")
                continue
            self._keys(option, _OPTION_KEYS, owhere, required=("value", "label"))
            value = option.get("value")
            if not isinstance(value, str) or not _ID_RE.match(value):
                self.error(owhere, "value must be lower_snake_case")
                continue
            owhere = f"{where}.options['{value}']"
            if value in values:
                self.error(owhere, f"duplicate option value '{value}'")
                continue
            if option.get("exclusive") and qtype != QuestionType.MULTI_CHOICE:
                self.error(owhere, "'exclusive' only makes sense on multi_choice options")
            self._translations(option.get("label"), f"{owhere}.label")
            values.append(value)
        return tuple(values)

    # -- checks ----------------------------------------------------------------------------

    def _checks(self, checks: list[Any]) -> None:
        codes: set[str] = set()
        for index, check in enumerate(checks):
            where = f"checks[{index}]"
            if not isinstance(check, Mapping):
                self.error(where, "must be a mapping")
                continue
            code = check.get("code")
            if isinstance(code, str):
                where = f"check '{code}'"
            self._keys(check, _CHECK_KEYS, where, required=("code", "kind", "text", "when"))
            if check.get("kind") not in set(CheckKind):
                self.error(where, f"kind must be one of {', '.join(CheckKind)}, got {check.get('kind')!r}")
            self._translations(check.get("text"), f"{where}.text")
            if "when" in check:
                self._condition(check["when"], f"{where}.when", context="check")
            if not isinstance(code, str) or not _ID_RE.match(code):
                self.error(where, "code must be lower_snake_case")
            elif code in codes or code in self.questions:
                self.error(where, f"duplicate code '{code}' (check codes share the list of missing answers "
                                  "with question ids)")
            else:
                codes.add(code)

    # -- rules and obligations -------------------------------------------------------------

    def _rules(self, rules: list[Any]) -> set[str]:
        codes: set[str] = set()
        for index, rule in enumerate(rules):
            where = f"rules[{index}]"
            if not isinstance(rule, Mapping):
                self.error(where, "must be a mapping")
                continue
            code = rule.get("code")
            if isinstance(code, str):
                where = f"rule '{code}'"
            self._keys(
                rule, _RULE_KEYS, where, required=("code", "title", "rationale", "article", "url", "when")
            )
            self._translations(rule.get("title"), f"{where}.title")
            self._translations(rule.get("rationale"), f"{where}.rationale")
            self._text_fields(rule, where)
            classification = rule.get("classification")
            if classification is not None and classification not in set(RiskClass) - {
                RiskClass.MINIMAL
            }:
                self.error(where, f"unknown classification {classification!r}")
            flags = rule.get("flags") or []
            if not isinstance(flags, list) or any(flag not in FLAG_NAMES for flag in flags):
                self.error(where, f"flags must be a list drawn from {', '.join(FLAG_NAMES)}")
            if "when" in rule:
                # Rules may only depend on earlier rules: one ordered pass, no cycles.
                self._condition(rule["when"], f"{where}.when", context="rule", rule_codes=frozenset(codes))
            if not isinstance(code, str) or not _ID_RE.match(code):
                self.error(where, "code must be lower_snake_case")
            elif code in codes:
                self.error(where, f"duplicate rule code '{code}'")
            else:
                codes.add(code)
        return codes

    def _obligations(self, obligations: list[Any], rule_codes: set[str]) -> None:
        codes: set[str] = set()
        for index, obligation in enumerate(obligations):
            where = f"obligations[{index}]"
            if not isinstance(obligation, Mapping):
                self.error(where, "must be a mapping")
                continue
            code = obligation.get("code")
            if isinstance(code, str):
                where = f"obligation '{code}'"
            self._keys(obligation, _OBLIGATION_KEYS, where,
                       required=("code", "text", "article", "url", "applies_from", "when"))
            self._translations(obligation.get("text"), f"{where}.text")
            self._text_fields(obligation, where)
            if obligation.get("applies_from") not in self.date_keys:
                self.error(
                    where, f"applies_from must name a key of 'dates', got {obligation.get('applies_from')!r}"
                )
            if "when" in obligation:
                self._condition(obligation["when"], f"{where}.when", context="obligation",
                                rule_codes=frozenset(rule_codes))
            if not isinstance(code, str) or not _ID_RE.match(code):
                self.error(where, "code must be lower_snake_case")
            elif code in codes:
                self.error(where, f"duplicate obligation code '{code}'")
            else:
                codes.add(code)

    def _placeholders(self, texts: Any, where: str) -> None:
        if not isinstance(texts, Mapping):
            return
        known = self.date_keys | self.threshold_keys
        for language, text in texts.items():
            if not isinstance(text, str):
                continue
            try:
                names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
            except ValueError as exc:
                self.error(f"{where}.{language}", f"bad placeholder syntax: {exc}")
                continue
            for name in names:
                if name not in known:
                    self.error(
                        f"{where}.{language}", f"unknown placeholder {{{name}}} (use a date or threshold key)"
                    )

    # -- conditions ------------------------------------------------------------------------

    def _condition(self, cond: Any, where: str, *, context: str, position: int | None = None,
                   rule_codes: frozenset[str] = frozenset()) -> None:
        def recurse(node: Any, path: str) -> None:
            self._condition(node, path, context=context, position=position, rule_codes=rule_codes)

        if not isinstance(cond, Mapping):
            self.error(where, f"a condition must be a mapping, got {cond!r}")
            return
        heads = [key for key in ("all", "any", "not", "answer", "compute", "conclusion", "fact") if key in cond]
        if len(heads) != 1:
            self.error(
                where,
                f"a condition needs exactly one of all/any/not/answer/compute/conclusion/fact, got {sorted(cond)}",
            )
            return
        head = heads[0]
        if head in ("all", "any"):
            self._only(cond, {head}, where)
            items = cond[head]
            if not isinstance(items, list) or not items:
                self.error(where, f"'{head}' needs a non-empty list of conditions")
                return
            for index, item in enumerate(items):
                recurse(item, f"{where}.{head}[{index}]")
        elif head == "not":
            self._only(cond, {"not"}, where)
            recurse(cond["not"], f"{where}.not")
        elif head == "answer":
            self._answer_atom(cond, where, context=context, position=position)
        elif head == "compute":
            if context == "show_if":
                self.error(where, "show_if can only depend on earlier answers, not on compute")
                return
            self._compute_atom(cond, where)
        elif head == "fact":
            if context == "show_if":
                self.error(where, "show_if can only depend on earlier answers, not on declared facts")
                return
            self._only(cond, {"fact"}, where)
            if cond["fact"] not in FACT_NAMES:
                self.error(where, f"unknown fact {cond['fact']!r} (known: {', '.join(FACT_NAMES)})")
        else:
            if context == "show_if":
                self.error(where, "show_if can only depend on earlier answers, not on conclusions")
                return
            if context == "check":
                self.error(where, "a check can only depend on answers, compute and facts, not on conclusions")
                return
            self._only(cond, {"conclusion"}, where)
            code = cond["conclusion"]
            if code not in rule_codes:
                scope = "an earlier rule" if context == "rule" else "a rule"
                self.error(where, f"conclusion {code!r} must name {scope}")

    def _only(self, cond: Mapping[str, Any], keys: set[str], where: str) -> None:
        extra = sorted(set(cond) - keys)
        if extra:
            self.error(where, f"unexpected keys {extra}")

    def _answer_atom(
        self, cond: Mapping[str, Any], where: str, *, context: str, position: int | None
    ) -> None:
        qid = cond["answer"]
        ops = [key for key in _ANSWER_OPS if key in cond]
        if len(ops) != 1:
            self.error(where, f"an answer condition needs exactly one of {', '.join(_ANSWER_OPS)}")
            return
        op = ops[0]
        self._only(cond, {"answer", op}, where)
        info = self.questions.get(qid) if isinstance(qid, str) else None
        if info is None:
            if context == "show_if":
                self.error(where, f"unreachable question: show_if references unknown question id {qid!r}")
            else:
                self.error(where, f"references a missing answer: unknown question id {qid!r}")
            return
        if context == "show_if" and position is not None and info.position >= position:
            self.error(
                where, f"unreachable question: show_if references {qid!r}, which is not asked before it"
            )
            return
        if info.type is None:
            return
        if info.type not in _ANSWER_OPS[op]:
            self.error(where, f"'{op}' cannot be used on {info.type} question {qid!r}")
            return
        values = cond[op]
        if op in _LIST_OPS:
            if not isinstance(values, list) or not values:
                self.error(where, f"'{op}' needs a non-empty list of option values")
                return
        else:
            values = [values]
        for value in values:
            if value not in info.options:
                prefix = (
                    "unreachable question: show_if expects"
                    if context == "show_if"
                    else "references missing option"
                )
                self.error(where, f"{prefix} {value!r} of question {qid!r}, whose options are "
                                  f"{', '.join(info.options)}")

    def _compute_atom(self, cond: Mapping[str, Any], where: str) -> None:
        if cond["compute"] not in COMPUTE_FIELDS:
            known = ", ".join(COMPUTE_FIELDS)
            self.error(where, f"unknown compute figure {cond['compute']!r} (known: {known})")
        ops = [key for key in _COMPARATORS if key in cond]
        if len(ops) != 1:
            self.error(where, f"a compute condition needs exactly one of {', '.join(_COMPARATORS)}")
            return
        self._only(cond, {"compute", ops[0]}, where)
        limit = cond[ops[0]]
        if isinstance(limit, str):
            if limit not in self.threshold_keys:
                self.error(where, f"unknown threshold {limit!r}")
        elif isinstance(limit, bool) or not isinstance(limit, int | float):
            self.error(where, f"compare with a number or a threshold name, got {limit!r}")

    # -- reachability ----------------------------------------------------------------------

    def _satisfiable(self, cond: Mapping[str, Any], reachable: set[str]) -> bool:
        """Is there any combination of earlier answers that makes ``cond`` true?

        Exhaustive over the questions the condition mentions. Each may be unanswered; a
        question that is itself unreachable can only be unanswered. For multi-choice questions
        only the option values the condition mentions matter, which keeps the search small.
        """
        mentioned: dict[str, set[str]] = {}
        for atom in _answer_atoms(cond):
            op = next(key for key in _ANSWER_OPS if key in atom)
            values = atom[op] if op in _LIST_OPS else [atom[op]]
            mentioned.setdefault(atom["answer"], set()).update(values)
        domains: list[list[Any]] = []
        for qid, values in mentioned.items():
            info = self.questions[qid]
            domain: list[Any] = [None]
            if qid in reachable:
                if info.type == QuestionType.MULTI_CHOICE:
                    relevant = sorted(values & set(info.options))
                    domain += [
                        frozenset(combo)
                        for size in range(len(relevant) + 1)
                        for combo in itertools.combinations(relevant, size)
                    ]
                else:
                    domain += list(info.options)
            domains.append(domain)
        total = 1
        for domain in domains:
            total *= len(domain)
        if total > _MAX_ASSIGNMENTS:
            return True
        qids = list(mentioned)
        for combo in itertools.product(*domains):
            answers = {qid: value for qid, value in zip(qids, combo, strict=True) if value is not None}
            if _evaluate(cond, _Context(answers, None, frozenset(), {})):
                return True
        return False


def _answer_atoms(cond: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    if "all" in cond or "any" in cond:
        for item in cond.get("all") or cond.get("any") or ():
            yield from _answer_atoms(item)
    elif "not" in cond:
        yield from _answer_atoms(cond["not"])
    elif "answer" in cond:
        yield cond


# --------------------------------------------------------------------------------------------
# Condition interpreter


@dataclass(frozen=True)
class _Context:
    answers: Mapping[str, Any]
    compute: ComputeEstimate | None
    fired: Collection[str]
    thresholds: Mapping[str, float]
    facts: Collection[str] = frozenset()


def _evaluate(cond: Mapping[str, Any], ctx: _Context) -> bool:
    if "all" in cond:
        return all(_evaluate(item, ctx) for item in cond["all"])
    if "any" in cond:
        return any(_evaluate(item, ctx) for item in cond["any"])
    if "not" in cond:
        return not _evaluate(cond["not"], ctx)
    if "answer" in cond:
        value = ctx.answers.get(cond["answer"])
        if value is None:
            return False
        if "equals" in cond:
            return value == cond["equals"]
        if "in" in cond:
            return value in cond["in"]
        if "includes" in cond:
            return cond["includes"] in value
        return any(item in value for item in cond["includes_any"])
    if "compute" in cond:
        if ctx.compute is None:
            return False
        actual = getattr(ctx.compute, cond["compute"])
        if actual is None:
            return False
        op = next(key for key in _COMPARATORS if key in cond)
        limit = cond[op]
        bound = ctx.thresholds[limit] if isinstance(limit, str) else float(limit)
        return _COMPARATORS[op](actual, bound)
    if "conclusion" in cond:
        return cond["conclusion"] in ctx.fired
    if "fact" in cond:
        return cond["fact"] in ctx.facts
    raise ValueError(f"invalid condition {cond!r}")  # validation makes this unreachable


# --------------------------------------------------------------------------------------------
# Answers


def _normalise(question: Question, value: Any) -> tuple[Any, str | None]:
    """Return (normalised value, error message)."""
    values = question.option_values
    if question.type == QuestionType.YES_NO:
        if isinstance(value, bool):  # JSON clients naturally send true/false
            return ("yes" if value else "no"), None
        if value in values:
            return value, None
        return None, f"expected 'yes' or 'no', got {value!r}"
    if question.type == QuestionType.SINGLE_CHOICE:
        if isinstance(value, str) and value in values:
            return value, None
        return None, f"{value!r} is not an option (choose one of: {', '.join(values)})"
    if isinstance(value, str) or not isinstance(value, Sequence):
        return None, f"expected a list of options, got {value!r}"
    unknown = [item for item in value if item not in values]
    if unknown:
        return None, f"not options: {', '.join(map(repr, unknown))} (choose from: {', '.join(values)})"
    if len(set(value)) != len(value):
        return None, "an option is selected more than once"
    if not value:
        return None, "select at least one option"
    exclusive = [o.value for o in question.options if o.exclusive and o.value in value]
    if exclusive and len(value) > 1:
        return None, f"{exclusive[0]!r} cannot be combined with other options"
    return [v for v in values if v in value], None  # canonical order (the file's), JSON-friendly


def _walk(
    ruleset: RuleSet, answers: Mapping[str, Any]
) -> tuple[list[Question], dict[str, Any], dict[str, str]]:
    """One ordered pass: which questions are visible, their normalised answers, and errors."""
    errors: dict[str, str] = {}
    normalised: dict[str, Any] = {}
    for qid, value in answers.items():
        if qid not in ruleset._by_id:
            errors[str(qid)] = f"unknown question in rule set {ruleset.version}"
            continue
        if value is None:  # explicitly unanswered
            continue
        clean, error = _normalise(ruleset.question(qid), value)
        if error:
            errors[qid] = error
        else:
            normalised[qid] = clean
    visible: list[Question] = []
    shown: dict[str, Any] = {}
    for question in ruleset.questions:
        # Only answers to visible questions count, so a hidden answer never leaks into a rule.
        if question.show_if is None or _evaluate(question.show_if, _Context(shown, None, frozenset(), {})):
            visible.append(question)
            if question.id in normalised:
                shown[question.id] = normalised[question.id]
    return visible, shown, errors


def visible_questions(ruleset: RuleSet, answers: Mapping[str, Any]) -> list[Question]:
    """Questions to display given the answers so far (invalid answers count as unanswered)."""
    return _walk(ruleset, answers)[0]


def missing_answers(ruleset: RuleSet, answers: Mapping[str, Any]) -> list[str]:
    """Ids of visible questions without a valid answer: the assessment is incomplete if any."""
    visible, shown, _ = _walk(ruleset, answers)
    return [question.id for question in visible if question.id not in shown]


def clean_answers(ruleset: RuleSet, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise answers; drop answers to hidden questions.

    Raises ``AnswerError`` for unknown question ids and invalid values (hidden questions
    included: a malformed payload is a client error whatever the visibility).
    Yes/no answers become ``"yes"``/``"no"``; multi-choice answers become lists in file order.
    The result is JSON-serialisable, ready to be stored next to the rule-set version.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError({"__all__": "answers must be a mapping of question id to answer"})
    _, shown, errors = _walk(ruleset, answers)
    if errors:
        raise AnswerError(errors)
    return shown


# --------------------------------------------------------------------------------------------
# Classification


def classify(
    ruleset: RuleSet,
    answers: Mapping[str, Any],
    compute: ComputeEstimate | None = None,
    *,
    language: str = "en",
    facts: Collection[str] = (),
) -> AssessmentResult:
    """Classify answers (and an optional compute estimate) under ``ruleset``. Pure: no I/O.

    ``facts`` are names from ``FACT_NAMES`` that the caller knows from outside the questionnaire.
    The result is ``incomplete``, with no conclusion and no obligation, while a question of the
    path is unanswered, an input it needs is missing, or answers contradict each other.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    unknown_facts = sorted(set(facts) - set(FACT_NAMES))
    if unknown_facts:
        raise ValueError(f"unknown facts {unknown_facts} (known: {', '.join(FACT_NAMES)})")
    facts = frozenset(facts)
    cleaned = clean_answers(ruleset, answers)
    missing = [
        Finding(qid, ruleset.question(qid).text[language]) for qid in missing_answers(ruleset, cleaned)
    ]
    contradictions: list[Finding] = []
    check_context = _Context(cleaned, compute, frozenset(), ruleset.thresholds, facts)
    for check in ruleset.checks:
        if _evaluate(check.when, check_context):
            finding = Finding(check.code, check.text[language])
            (missing if check.kind == CheckKind.MISSING else contradictions).append(finding)

    fired: dict[str, Rule] = {}
    obligations: list[Obligation] = []
    if not missing and not contradictions:
        for rule in ruleset.rules:
            # Rules see only earlier conclusions (validated), so one ordered pass is enough.
            if _evaluate(rule.when, _Context(cleaned, compute, fired.keys(), ruleset.thresholds, facts)):
                fired[rule.code] = rule
        context = _Context(cleaned, compute, frozenset(fired), ruleset.thresholds, facts)
        obligations = [o for o in ruleset.obligations if _evaluate(o.when, context)]

    classes = {rule.classification for rule in fired.values() if rule.classification}
    flags = {name: False for name in FLAG_NAMES}
    for rule in fired.values():
        implied = _CLASS_FLAGS.get(rule.classification, ()) if rule.classification else ()
        for name in (*rule.flags, *implied):
            flags[name] = True
    # An out-of-scope project with prospective risks (Art. 2(8) product R&D) still goes to the
    # ethics officers: the Act will apply on the route to market, and the portal's review does
    # not depend on the Act's scope.
    flags["needs_ethics_review"] = bool(classes & ETHICS_REVIEW_CLASSES)

    return AssessmentResult(
        ruleset=ruleset.version,
        ruleset_sha256=ruleset.sha256,
        language=language,
        classification=(
            RiskClass.INCOMPLETE if missing or contradictions else _overall_classification(classes)
        ),
        flags=MappingProxyType(flags),
        conclusions=tuple(
            Conclusion(
                code=rule.code,
                title=rule.title[language],
                article=rule.article,
                url=rule.url,
                rationale=rule.rationale[language],
                classification=rule.classification,
            )
            for rule in fired.values()
        ),
        obligations=tuple(
            ObligationResult(
                code=o.code,
                article=o.article,
                url=o.url,
                text=o.text[language],
                applies_from=o.applies_from,
            )
            for o in obligations
        ),
        compute=compute,
        missing_answers=tuple(m.code for m in missing),
        missing=tuple(missing),
        contradictions=tuple(contradictions),
    )


def _overall_classification(classes: set[RiskClass]) -> RiskClass:
    # Policy: a prohibited practice is never masked by the research exemption (the portal
    # refuses compute for it whatever the scope). Otherwise Art. 2(6)/2(8) takes the project
    # out of the Act for now, and the prospective conclusions stay listed for the ethics review.
    if RiskClass.PROHIBITED in classes:
        return RiskClass.PROHIBITED
    if RiskClass.OUT_OF_SCOPE in classes:
        return RiskClass.OUT_OF_SCOPE
    return next((c for c in PRECEDENCE if c in classes), RiskClass.MINIMAL)
