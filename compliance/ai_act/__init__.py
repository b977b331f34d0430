"""EU AI Act risk assessment: versioned rule sets (YAML data) and a pure classifier.

Import from here; ``engine`` and ``compute`` are the implementation modules, ``risk`` the risk
classes with their translated labels. Nothing in this package touches the database or Django settings
(``risk`` only declares a ``TextChoices``; ``checks`` is the only module that reads configuration).
"""

from .compute import (
    GPU_PEAK_FLOPS,
    ComputeEstimate,
    ComputeInputs,
    ComputeWarning,
    estimate_compute,
)
from .engine import (
    DEFAULT_RULESET,
    FLAG_NAMES,
    LANGUAGES,
    AnswerError,
    AssessmentResult,
    Conclusion,
    Obligation,
    ObligationResult,
    Option,
    Question,
    QuestionType,
    Rule,
    RuleSet,
    RuleSetError,
    UnknownRuleSetError,
    available_rulesets,
    classify,
    clean_answers,
    clear_ruleset_cache,
    format_date,
    load_ruleset,
    missing_answers,
    validate_ruleset,
    visible_questions,
)
from .risk import RiskClass, risk_class_label

__all__ = [
    "DEFAULT_RULESET",
    "FLAG_NAMES",
    "GPU_PEAK_FLOPS",
    "LANGUAGES",
    "AnswerError",
    "AssessmentResult",
    "ComputeEstimate",
    "ComputeInputs",
    "ComputeWarning",
    "Conclusion",
    "Obligation",
    "ObligationResult",
    "Option",
    "Question",
    "QuestionType",
    "Rule",
    "RiskClass",
    "RuleSet",
    "RuleSetError",
    "UnknownRuleSetError",
    "available_rulesets",
    "classify",
    "clean_answers",
    "clear_ruleset_cache",
    "estimate_compute",
    "format_date",
    "load_ruleset",
    "missing_answers",
    "risk_class_label",
    "validate_ruleset",
    "visible_questions",
]
