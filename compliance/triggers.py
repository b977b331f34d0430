"""Why an ethics review was opened, worded for its reader.

A trigger is stored with its code (``sector:defence``, ``dual_use``, ``ethics_issue:<issue>``,
``ai_act:<rule>``), the rule it cites and the text of the time, in the language of whoever submitted (an AI Act
rule's title in English, as the stored result has it). Pages and reports word it again from the code, in their
reader's language."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Sector
from allocations.applications.models import EthicsIssue
from portal.vocabulary import choice_label

from .ai_act import engine


def trigger_text(code: str) -> str | None:
    """The reason a trigger's code stands for, in the active language; None for a code worded elsewhere."""
    kind, _sep, value = code.partition(":")
    if kind == "sector":
        return _("Sensitive sector: %(sector)s") % {"sector": choice_label(Sector, value)}
    if kind == "dual_use":
        return _("The applicant declared a possible dual use.")
    if kind == "not_civilian":
        return _("The applicant did not declare an exclusively civilian purpose.")
    if kind == "ethics_issue":
        return _("Ethics issue declared: %(issue)s") % {"issue": choice_label(EthicsIssue, value)}
    return None


def trigger_lines(review, language: str | None = None) -> list[dict[str, str]]:
    """The review's triggers for a page or a report: each reason worded again in ``language`` (the active
    one by default) from its code, an AI Act rule's title taken from the rule set the assessment was made
    with. A reason that cannot be worded again (a rule set no longer here) keeps its stored text, with the
    language it is in (``"en"`` for an AI Act rule's title; ``""`` when not known) for the page to mark."""
    language = engine.supported_language(language or get_language())
    assessment = getattr(review.application, "risk_assessment", None)
    rules = {}
    try:
        ruleset = engine.load_ruleset(assessment.ruleset_version) if assessment is not None else None
    except engine.RuleSetError:
        ruleset = None
    if ruleset is not None and ruleset.sha256 == assessment.ruleset_sha256:
        rules = {rule.code: rule for rule in ruleset.rules}
    lines = []
    for trigger in review.triggers or []:
        code = trigger.get("code", "")
        kind, _sep, value = code.partition(":")
        if kind == "ai_act":
            rule = rules.get(value)
            text, text_language = (rule.title[language], language) if rule else (trigger.get("text", ""), "en")
        else:
            worded = trigger_text(code)
            text, text_language = (worded, language) if worded else (trigger.get("text", ""), "")
        lines.append({"code": code, "rule": trigger.get("rule", ""), "text": text, "language": text_language})
    return lines
