"""Re-evaluate every stored AI Act assessment against a rule set, without writing anything.

Each stored assessment is classified again with the application's current compute figures and
declared AI work. Three outcomes are told apart:

* ``same`` / ``changes``: the stored answers still complete the questionnaire, and the classification,
  conclusions or obligation dates stay or change;
* ``needs new answers``: the assessment was complete when stored, but the questionnaire now asks
  questions it never answered (or finds its answers contradictory). It is not reclassified: the
  stored classification stands until the applicant answers the new questions;
* ``incomplete``: the assessment was already incomplete when stored.

Answers to questions the rule set does not ask (the Omnibus prohibition, re-assessed against
``2024``) are left out and listed; answers it cannot read are an error for that assessment.
"""

import json as json_module

from django.core.management.base import BaseCommand, CommandError

from compliance.ai_act import engine
from compliance.models import RiskAssessment
from compliance.services import assessment_classify


class Command(BaseCommand):
    help = ("Re-evaluate stored AI Act assessments against a rule set and report which conclusions would "
            "change, and which assessments need answers to new questions. History is not overwritten.")

    def add_arguments(self, parser):
        parser.add_argument("--ruleset", required=True, help=f"one of: {', '.join(engine.available_rulesets())}")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--only-changes", action="store_true",
                            help="list only assessments that would change or need new answers")

    def handle(self, *args, ruleset, json: bool = False, only_changes: bool = False, **options):
        try:
            target = engine.load_ruleset(ruleset)
        except engine.RuleSetError as exc:
            raise CommandError(str(exc)) from exc
        rows = []
        queryset = RiskAssessment.objects.select_related("application").order_by("application__reference")
        for assessment in queryset.iterator(chunk_size=500):
            row = _row(assessment, target)
            if only_changes and row["status"] in ("same", "incomplete"):
                continue
            rows.append(row)
        summary = {
            "ruleset": target.version, "ruleset_sha256": target.sha256, "assessments": len(rows),
            "would_change": sum(1 for r in rows if r["status"] == "changes"),
            "need_new_answers": sum(1 for r in rows if r["status"] == "needs_new_answers"),
            "rows": rows,
        }
        if json:
            self.stdout.write(json_module.dumps(summary, indent=2))
            return
        self.stdout.write(f"Re-assessment against {target.version} (sha256 {target.sha256[:12]}...)")
        for row in rows:
            self.stdout.write(_line(row))
        self.stdout.write(f"{summary['would_change']} of {summary['assessments']} assessments would change; "
                          f"{summary['need_new_answers']} need answers to new questions.")


def _row(assessment: RiskAssessment, target: engine.RuleSet) -> dict:
    app = assessment.application
    stored = assessment.result or {}
    row: dict = {"reference": app.reference, "stored_ruleset": assessment.ruleset_version,
                 "stored_file_matches": assessment.ruleset_sha256 == target.sha256
                 if assessment.ruleset_version == target.version else None}
    asked = {question.id for question in target.questions}
    answers = {qid: value for qid, value in (assessment.answers or {}).items() if qid in asked}
    row["not_asked"] = sorted(set(assessment.answers or {}) - asked)
    try:
        result = assessment_classify(application=app, answers=answers, ruleset_version=target.version)
    except engine.AnswerError as exc:
        return row | {"status": "error", "error": f"answers do not fit {target.version}: {exc}",
                      "classification": [assessment.classification, None], "changed": False}
    new = result.to_dict()
    row |= {"missing": list(result.missing_answers), "contradictions": [c.code for c in result.contradictions],
            "complete": result.complete}
    if not result.complete:
        status = "needs_new_answers" if assessment.complete else "incomplete"
        # Never reclassified from partial answers: the stored classification is what stands.
        return row | {"status": status, "classification": [assessment.classification, assessment.classification],
                      "conclusions_added": [], "conclusions_removed": [], "obligation_dates_changed": [],
                      "changed": False}
    old_codes = sorted(c["code"] for c in stored.get("conclusions", []))
    new_codes = sorted(c["code"] for c in new["conclusions"])
    old_obligations = {(o["code"], o["applies_from"]) for o in stored.get("obligations", [])}
    new_obligations = {(o["code"], o["applies_from"]) for o in new["obligations"]}
    changed = (old_codes != new_codes or stored.get("classification") != new["classification"]
               or old_obligations != new_obligations)
    return row | {
        "status": "changes" if changed else "same",
        "classification": [stored.get("classification"), new["classification"]],
        "conclusions_added": sorted(set(new_codes) - set(old_codes)),
        "conclusions_removed": sorted(set(old_codes) - set(new_codes)),
        "obligation_dates_changed": sorted({c for c, _d in old_obligations ^ new_obligations}),
        "changed": changed,
    }


def _line(row: dict) -> str:
    reference, (old, new) = row["reference"], row["classification"]
    if row["status"] == "error":
        return f"  {reference}: ERROR {row['error']}"
    if row["status"] in ("needs_new_answers", "incomplete"):
        mark = "NEEDS NEW ANSWERS" if row["status"] == "needs_new_answers" else "incomplete"
        details = [f"missing: {', '.join(row['missing'])}"] if row["missing"] else []
        details += [f"contradictions: {', '.join(row['contradictions'])}"] if row["contradictions"] else []
        return f"  {reference}: {mark} ({old or 'not classified'} kept) " + "; ".join(details)
    mark = "CHANGES" if row["changed"] else "same"
    return (f"  {reference}: {mark} {old} -> {new}"
            + (f" +{row['conclusions_added']}" if row["conclusions_added"] else "")
            + (f" -{row['conclusions_removed']}" if row["conclusions_removed"] else "")
            + (f" dates:{row['obligation_dates_changed']}" if row["obligation_dates_changed"] else ""))
