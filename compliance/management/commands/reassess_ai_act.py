"""Re-evaluate every stored AI Act assessment against another rule set, without writing anything."""



import json as json_module

from django.core.management.base import BaseCommand, CommandError

from compliance.ai_act import engine
from compliance.models import RiskAssessment
from compliance.services import compute_for_application


class Command(BaseCommand):
    help = ("Re-evaluate stored AI Act assessments against a rule set and report which conclusions would "
            "change. History is not overwritten.")

    def add_arguments(self, parser):
        parser.add_argument("--ruleset", required=True, help=f"one of: {', '.join(engine.available_rulesets())}")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--only-changes", action="store_true", help="list only assessments that would change")

    def handle(self, *args, ruleset, json: bool = False, only_changes: bool = False, **options):
        try:
            target = engine.load_ruleset(ruleset)
        except engine.RuleSetError as exc:
            raise CommandError(str(exc)) from exc
        rows = []
        queryset = RiskAssessment.objects.select_related("application").order_by("application__reference")
        for assessment in queryset.iterator(chunk_size=500):
            app = assessment.application
            try:
                result = engine.classify(target, assessment.answers, compute_for_application(app))
            except engine.AnswerError as exc:
                rows.append({"reference": app.reference, "error": f"answers do not fit {ruleset}: {exc}"})
                continue
            new = result.to_dict()
            old_codes = sorted(c["code"] for c in assessment.result.get("conclusions", []))
            new_codes = sorted(c["code"] for c in new["conclusions"])
            old_obligations = {(o["code"], o["applies_from"]) for o in assessment.result.get("obligations", [])}
            new_obligations = {(o["code"], o["applies_from"]) for o in new["obligations"]}
            changed = (old_codes != new_codes or assessment.result.get("classification") != new["classification"]
                       or old_obligations != new_obligations)
            if only_changes and not changed:
                continue
            rows.append({
                "reference": app.reference,
                "stored_ruleset": assessment.ruleset_version,
                "classification": [assessment.result.get("classification"), new["classification"]],
                "conclusions_added": sorted(set(new_codes) - set(old_codes)),
                "conclusions_removed": sorted(set(old_codes) - set(new_codes)),
                "obligation_dates_changed": sorted({c for c, _d in old_obligations ^ new_obligations}),
                "complete": new["complete"],
                "changed": changed,
            })
        summary = {"ruleset": target.version, "ruleset_sha256": target.sha256, "assessments": len(rows),
                   "would_change": sum(1 for r in rows if r.get("changed")), "rows": rows}
        if json:
            self.stdout.write(json_module.dumps(summary, indent=2))
            return
        self.stdout.write(f"Re-assessment against {target.version} (sha256 {target.sha256[:12]}...)")
        for row in rows:
            if "error" in row:
                self.stdout.write(f"  {row['reference']}: ERROR {row['error']}")
                continue
            mark = "CHANGES" if row["changed"] else "same"
            old, new = row["classification"]
            self.stdout.write(f"  {row['reference']}: {mark} {old} -> {new}"
                              + (f" +{row['conclusions_added']}" if row["conclusions_added"] else "")
                              + (f" -{row['conclusions_removed']}" if row["conclusions_removed"] else "")
                              + (f" dates:{row['obligation_dates_changed']}"
                                 if row["obligation_dates_changed"] else ""))
        self.stdout.write(f"{summary['would_change']} of {summary['assessments']} assessments would change.")
