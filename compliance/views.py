from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role, is_superuser
from allocations.applications.presentation import ethics_rows
from allocations.applications.selectors import attachments_for_reader
from portal.audit_actions import action_label
from portal.forms import apply_validation_error
from portal.listquery import list_query
from portal.paging import AuditTrailPaginator, page_of, querystring_without_page

from . import selectors, services
from .forms import EthicsDecisionForm, EvidenceDecisionForm
from .lists import AUDIT_COLUMNS, AUDIT_LIST, ETHICS_COLUMNS, ETHICS_LIST, ETHICS_QUEUE
from .reports.data import localised_assessment
from .reports.selectors import staff_reports_for
from .triggers import trigger_lines


def _require_ethics_officer(user) -> None:
    if not has_role(user, Role.ETHICS_OFFICER):
        raise PermissionDenied


# Conditions awaiting the applicant's acknowledgement a page lists, the oldest first (thousands may wait).
CONDITIONS_SHOWN = 10


@login_required
def ethics_queue(request):
    _require_ethics_officer(request.user)
    # Without a query string the page is the queue (pending, the longest waiting first); the filters
    # show any other review. Paginated: at scale thousands wait.
    params = request.GET or QueryDict(urlencode(ETHICS_QUEUE))
    query = list_query(ETHICS_LIST, params)
    page = page_of(request, query.queryset())
    for review in page:
        review.trigger_lines = trigger_lines(review)
    context = {
        "list": query,
        "page": page,
        "querystring": querystring_without_page(request, params),
        "headers": query.headers(ETHICS_COLUMNS),
        # the oldest first, a few: the rest wait in the same order (one row more read tells whether there are)
        "awaiting_ack": list(selectors.conditions_awaiting_acknowledgement()[:CONDITIONS_SHOWN + 1]),
        "conditions_shown": CONDITIONS_SHOWN,
        "recent": selectors.ethics_recent_decisions(),
    }
    return render(request, "compliance/ethics_queue.html", context)


@login_required
def audit_event_list(request):
    """The audit trail, newest first, for the ethics officers and the administrators (as its API)."""
    if not (has_role(request.user, Role.ETHICS_OFFICER) or is_superuser(request.user)):
        raise PermissionDenied
    query = list_query(AUDIT_LIST, request.GET)
    page = page_of(request, query.queryset(), paginator_class=AuditTrailPaginator)
    objects = selectors.audit_objects(page)
    rows = [{"event": e, "action": action_label(e.action), "object": selectors.object_type_label(e.object_type),
             "reference": objects.get((e.object_type, e.object_id), e.object_id)} for e in page]
    return render(request, "compliance/audit_event_list.html", {
        "list": query, "page": page, "rows": rows, "querystring": querystring_without_page(request),
        "headers": query.headers(AUDIT_COLUMNS)})


@login_required
def ethics_workspace(request):
    """The ethics officer's dashboard: queues, counts by risk class and sector, recent decisions, reports."""
    _require_ethics_officer(request.user)
    pending, awaiting_ack = selectors.ethics_pending(), selectors.conditions_awaiting_acknowledgement()
    context = {
        "pending": pending[:10], "pending_count": pending.count(),
        "awaiting_ack": awaiting_ack[:CONDITIONS_SHOWN], "awaiting_ack_count": awaiting_ack.count(),
        "recent": selectors.ethics_recent_decisions(limit=10),
        "by_risk": selectors.counts_by_risk_class(),
        "by_sector": selectors.counts_by_sector(),
        "reports": staff_reports_for(request.user)[:10],
    }
    return render(request, "compliance/ethics_workspace.html", context)


@login_required
def ethics_review(request, reference):
    _require_ethics_officer(request.user)
    app = selectors.application_for_ethics(reference)
    form = EthicsDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ethics_decide(actor=request.user, application=app, status=form.cleaned_data["status"],
                                   reasons=form.cleaned_data["reasons"], conditions=form.condition_list(),
                                   evidence_conditions=form.condition_list("evidence_conditions"))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Ethics decision recorded for %(ref)s.") % {"ref": app.reference})
            return redirect("compliance:ethics_queue")
    return _render_review(request, app, form)


@login_required
def condition_evidence_decide(request, reference, pk):
    """Accept the evidence uploaded for a condition, or reject it with what is missing."""
    _require_ethics_officer(request.user)
    if request.method != "POST":
        return redirect("compliance:ethics_review", reference)
    app = selectors.application_for_ethics(reference)
    condition = selectors.condition_of_review(app.ethics_review, pk)
    evidence_form = EvidenceDecisionForm(request.POST, prefix=f"condition-{condition.pk}")
    if evidence_form.is_valid():
        accept = evidence_form.cleaned_data["decision"] == EvidenceDecisionForm.ACCEPT
        try:
            services.condition_evidence_decide(actor=request.user, condition=condition, accept=accept,
                                               comment=evidence_form.cleaned_data["comment"])
        except ValidationError as exc:
            apply_validation_error(evidence_form, exc)
        else:
            messages.success(request, _("Evidence accepted.") if accept else
                             _("Evidence rejected: the applicant is told what is missing."))
            return redirect("compliance:ethics_review", app.reference)
    return _render_review(request, app, EthicsDecisionForm(), evidence_form=evidence_form,
                          evidence_condition=condition.pk, status=400)


def _render_review(request, app, form, *, evidence_form=None, evidence_condition=None, status=200):
    conditions = list(app.ethics_review.conditions.select_related("evidence"))
    for condition in conditions:
        # One form per condition waiting for an officer, its fields named apart; the one posted keeps its errors.
        condition.decision_form = (evidence_form if condition.pk == evidence_condition else
                                   EvidenceDecisionForm(prefix=f"condition-{condition.pk}"))
    assessment = getattr(app, "risk_assessment", None)
    context = {
        "application": app,
        "assessment": assessment,
        "result": localised_assessment(assessment, get_language()) if assessment else None,
        "review": app.ethics_review,
        "triggers": trigger_lines(app.ethics_review),
        "conditions": conditions,
        "form": form,
        "ethics_yes": [(entry["label"], entry["text"]) for _code, entry in ethics_rows(app) if entry["answer"]],
        **attachments_for_reader(request.user, app),
    }
    return render(request, "compliance/ethics_review.html", context, status=status)
