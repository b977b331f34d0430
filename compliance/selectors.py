import datetime

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import Sector
from allocations.applications.models import Application, ApplicationStatus

from . import services
from .ai_act import engine
from .ai_act.risk import RiskClass, risk_class_label
from .models import EthicsCondition, EthicsReview, EthicsStatus, RiskAssessment


def ethics_pending():
    return (EthicsReview.objects.filter(status=EthicsStatus.PENDING)
            .select_related("application__organisation", "application__access_mode", "application__risk_assessment")
            .order_by("created_at", "pk"))


def ethics_recent_decisions(limit: int = 20):
    return (EthicsReview.objects.exclude(status=EthicsStatus.PENDING)
            .select_related("application__organisation", "decided_by")
            .order_by("-decided_at")[:limit])


def conditions_awaiting_acknowledgement():
    return (EthicsCondition.objects.filter(acknowledged_at=None)
            .select_related("review__application__organisation").order_by("review__decided_at"))


def application_for_ethics(reference: str) -> Application:
    app = (Application.objects.select_related("organisation", "access_mode", "risk_assessment", "ethics_review")
           .prefetch_related("resources__site", "team").filter(reference=reference).first())
    if app is None or not hasattr(app, "ethics_review"):
        raise Http404
    return app


def assessment_result(application, assessment: RiskAssessment | None, language: str) -> dict | None:
    """The saved answers' result in the reader's language (the stored result is kept as evaluated), with
    the class's label and the obligations' dates written out: for the applicant's and the staff's pages."""
    if assessment is None:
        return None
    try:
        result, _missing = services.assessment_evaluate(
            application=application, answers=dict(assessment.answers),
            ruleset_version=assessment.ruleset_version or None, language=language)
        result["ruleset_title"] = engine.load_ruleset(result["ruleset"]).title[language]
    except (engine.RuleSetError, engine.AnswerError):
        result = dict(assessment.result)  # a retired rule set: show the result as it was stored
    if not result:
        return None
    result["classification_label"] = risk_class_label(result.get("classification", ""))
    for obligation in result.get("obligations", []):
        obligation["applies_from"] = engine.format_date(datetime.date.fromisoformat(obligation["applies_from"]),
                                                        language)
    return result


# --- the ethics officer's workspace -------------------------------------------------------------------

# Applications that reached the portal's scrutiny: everything submitted, whatever happened next.
SUBMITTED_STATUSES = [ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW, ApplicationStatus.AWAITING_DECISION,
                      ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, ApplicationStatus.REVISION_REQUESTED]


def _with_share(rows: list[dict]) -> list[dict]:
    top = max((r["count"] for r in rows), default=0)
    total = sum(r["count"] for r in rows)
    for r in rows:
        r["width"] = round(100 * r["count"] / top) if top else 0
        r["percent"] = round(100 * r["count"] / total) if total else 0
    return rows


def counts_by_risk_class() -> list[dict]:
    counts = dict(RiskAssessment.objects.filter(application__status__in=SUBMITTED_STATUSES)
                  .values_list("classification").annotate(n=Count("pk")).order_by())
    order = [*RiskClass.values, ""]
    keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
    return _with_share([{"key": k, "label": risk_class_label(k), "count": counts[k]} for k in keys])


def counts_by_sector() -> list[dict]:
    counts = dict(Application.objects.filter(status__in=SUBMITTED_STATUSES).values_list("sector")
                  .annotate(n=Count("pk")).order_by())
    labels = dict(Sector.choices) | {"": _("No sector")}
    keys = [k for k in [*Sector.values, ""] if counts.get(k)]
    return _with_share([{"key": k, "label": labels.get(k, k), "count": counts[k]} for k in keys])
