import datetime
import functools

from django.apps import apps
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from accounts.home import ITEMS_SHOWN, WorkList, due_item
from accounts.models import Sector, User
from allocations.applications.models import Application, ApplicationStatus
from allocations.applications.selectors import of_applications
from allocations.grants.models import Allocation
from portal.audit_actions import AuditAction
from portal.listquery import search, within_days
from portal.models import AuditEvent

from . import services
from .ai_act import engine
from .ai_act.risk import RiskClass, risk_class_label
from .models import EthicsCondition, EthicsReview, EthicsStatus, RiskAssessment

# Applications that ended without a grant: their conditions no longer wait for anyone.
CLOSED_WITHOUT_GRANT = [ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN]


def ethics_pending():
    return (EthicsReview.objects.filter(status=EthicsStatus.PENDING)
            .select_related("application__organisation", "application__access_mode", "application__risk_assessment")
            .order_by("created_at", "pk"))


#: What the ethics list (page and API) reads of a review and of the rows joined to it: not the application's
#: texts and answers, nor the assessment's answers (its rule set names the triggers' titles).
ETHICS_OVERVIEW_FIELDS = ("application_id", "status", "triggers", "reasons", "created_at", "decided_at",
                          "application__reference", "application__title", "application__sector",
                          "application__decision_due", "application__organisation__legal_name",
                          "application__risk_assessment__classification",
                          "application__risk_assessment__ruleset_version",
                          "application__risk_assessment__ruleset_sha256")


def ethics_overview(*, status: str = "", risk_class: str = "", mode: str = "", site: str = "", sector: str = "",
                    organisation: int | None = None, date_from: datetime.date | None = None,
                    date_to: datetime.date | None = None, q: str = "") -> QuerySet:
    """The ethics reviews filtered by the list's parameters (``compliance.lists.ETHICS_LIST``; the dates
    bound the day the review was opened), with what the rows show joined: one query for a page."""
    qs = (EthicsReview.objects.select_related("application__organisation", "application__risk_assessment")
          .only(*ETHICS_OVERVIEW_FIELDS))
    if status:
        qs = qs.filter(status=status)
    if risk_class:
        qs = qs.filter(application__risk_assessment__classification=risk_class)
    qs = of_applications(qs, "application__", site=site, mode=mode, sector=sector, organisation=organisation)
    qs = within_days(qs, "created_at", date_from, date_to)
    return search(qs, q, reference="application__reference", fields=["application__title"],
                  organisation=("application__organisation", "legal_name"))


# An object named in a search of the audit trail by its reference: at most this many of each kind.
AUDIT_REFERENCES_LIMIT = 100


def audit_event_overview(*, action: str = "", actor: int | None = None, date_from: datetime.date | None = None,
                         date_to: datetime.date | None = None, q: str = "") -> QuerySet:
    """The audit trail filtered by the list's parameters (``compliance.lists.AUDIT_LIST``).

    The search matches an action (its stored value from the start, e.g. "application.", or its label in
    the reader's language), a person who acted (name or e-mail), or an object: its id, or the reference
    of an application or allocation (from the start). The people and the references are looked up first
    (two or three small queries on their indexes), so the trail itself is read once, on its indexes.

    References are written in capitals ("AIF-2026-0042"): the text in capitals is looked up from the start on
    the references' own b-tree index (0.05 ms; their trigram index read most of its entries for it, as every
    reference shares "AIF-2026-": 1.4 ms for 50,000 applications). Objects are named by their primary key,
    digits only: a text with anything else asks nothing of the ids.
    Searched by an action alone, the trail is then counted from the index of actions without reading the
    events (57,000 of 500,000 events: 5.6 ms, where the condition on the ids made it read 18,562 pages of
    the table, 62 ms)."""
    qs = AuditEvent.objects.select_related("actor")
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_id=actor)
    qs = within_days(qs, "created_at", date_from, date_to)
    text = q.strip()
    if not text:
        return qs
    folded = text.casefold()
    actions = [value for value, label in _folded_action_labels(get_language())
               if value.startswith(folded) or folded in label]
    match = Q(action__in=actions)
    if text.isdigit():
        match |= Q(object_id=text)
    people = list(User.objects.filter(Q(full_name__icontains=text) | Q(email__icontains=text))
                  .values_list("pk", flat=True)[:AUDIT_REFERENCES_LIMIT])
    if people:
        match |= Q(actor_id__in=people)
    for model in (Application, Allocation):
        ids = [str(pk) for pk in model.objects.filter(reference__startswith=text.upper()).order_by()
               .values_list("pk", flat=True)[:AUDIT_REFERENCES_LIMIT]]
        if ids:
            match |= Q(object_type=_object_type(model), object_id__in=ids)
    return qs.filter(match)


@functools.cache
def _folded_action_labels(language: str) -> tuple[tuple[str, str], ...]:
    """Each action's stored value with its label in ``language``, case-folded: for the trail's search."""
    with override(language):
        return tuple((value, str(label).casefold()) for value, label in AuditAction.choices)


def audit_objects(events) -> dict[tuple[str, str], str]:
    """What the rows of a page of the trail name: (object type, id) -> the reference a person reads, for
    the applications and allocations among them (one query per kind, whatever the page)."""
    out = {}
    for model in (Application, Allocation):
        kind = _object_type(model)
        ids = {e.object_id for e in events if e.object_type == kind and e.object_id.isdigit()}
        if ids:
            for pk, reference in model.objects.filter(pk__in=ids).values_list("pk", "reference"):
                out[(kind, str(pk))] = reference
    return out


def _object_type(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"  # as portal.audit.object_label names it


def object_type_label(object_type: str) -> str:
    """"allocations.application" as a person reads it ("application", translated)."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def ethics_recent_decisions(limit: int = 20):
    return (EthicsReview.objects.exclude(status=EthicsStatus.PENDING)
            .select_related("application__organisation", "decided_by")
            .only("status", "decided_at", "application__reference", "application__organisation__legal_name",
                  "decided_by__full_name", "decided_by__email")
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
    else:
        if not result["complete"] and assessment.complete and application.status != ApplicationStatus.DRAFT:
            # Answered before the questionnaire gained questions: never reclassify silently.
            result = dict(assessment.result) | {"earlier_edition": True}
    if not result:
        return None
    # A result stored by an earlier edition may lack keys that the template reads.
    result = {"ruleset": assessment.ruleset_version, "ruleset_title": "", "language": "en",
              "complete": assessment.complete,
              "missing": [], "contradictions": [], "conclusions": [], "obligations": [], "compute": None,
              "earlier_edition": False} | result
    result["classification_label"] = risk_class_label(result.get("classification") or "")
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


# --- the ethics officer's home --------------------------------------------------------------------


def ethics_work(user, today: datetime.date) -> list[WorkList]:
    """The ethics queue by the application's decision date (the review must clear before it), and the
    conditions the applicants have not acknowledged yet, by the start they hold back (four queries)."""
    queue = (EthicsReview.objects.filter(status=EthicsStatus.PENDING).select_related("application__organisation")
             .order_by(F("application__decision_due").asc(nulls_last=True), "created_at", "pk"))
    conditions = (EthicsCondition.objects.filter(acknowledged_at=None)
                  .exclude(review__application__status__in=CLOSED_WITHOUT_GRANT)
                  .select_related("review__application__organisation")
                  .order_by(F("review__application__start_date").asc(nulls_last=True), "pk"))
    return [
        WorkList(key="queue", label=_("Ethics reviews to decide"), count=queue.count(),
                 link=reverse("compliance:ethics_queue"), empty=_("The ethics queue is empty."),
                 items=[due_item(title=f"{r.application.reference} · {r.application.organisation.legal_name}",
                                 detail=r.application.title, due=r.application.decision_due, today=today,
                                 since=timezone.localdate(r.created_at),
                                 link=reverse("compliance:ethics_review", args=[r.application.reference]))
                        for r in queue[:ITEMS_SHOWN]]),
        WorkList(key="conditions", label=_("Conditions not yet acknowledged"), count=conditions.count(),
                 link=reverse("compliance:ethics_workspace"), empty=_("Every condition is acknowledged."),
                 items=[due_item(title=f"{c.review.application.reference} · "
                                       f"{c.review.application.organisation.legal_name}",
                                 detail=Truncator(c.text).chars(80), due=c.review.application.start_date,
                                 today=today,
                                 link=reverse("compliance:ethics_review", args=[c.review.application.reference]))
                        for c in conditions[:ITEMS_SHOWN]]),
    ]


def condition_of_review(review: EthicsReview, pk: int) -> EthicsCondition:
    condition = EthicsCondition.objects.filter(review=review, pk=pk).select_related("evidence").first()
    if condition is None:
        raise Http404
    return condition
