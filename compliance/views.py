from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from allocations.applications.presentation import ethics_rows
from allocations.applications.selectors import attachments_for_reader
from portal.forms import apply_validation_error

from . import selectors, services
from .forms import EthicsDecisionForm, EvidenceDecisionForm
from .reports.data import localised_assessment
from .reports.selectors import staff_reports_for
from .triggers import trigger_lines

QUEUE_PAGE_SIZE = 25


def _require_ethics_officer(user) -> None:
    if not has_role(user, Role.ETHICS_OFFICER):
        raise PermissionDenied


@login_required
def ethics_queue(request):
    _require_ethics_officer(request.user)
    # Paginated, oldest first: at scale thousands wait, and rendering them all took over a second.
    page = Paginator(selectors.ethics_pending(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for review in page:
        review.trigger_lines = trigger_lines(review)
    context = {
        "pending": page,
        "page": page,
        "awaiting_ack": selectors.conditions_awaiting_acknowledgement(),
        "recent": selectors.ethics_recent_decisions(),
    }
    return render(request, "compliance/ethics_queue.html", context)


@login_required
def ethics_workspace(request):
    """The ethics officer's dashboard: queues, counts by risk class and sector, recent decisions, reports."""
    _require_ethics_officer(request.user)
    pending, awaiting_ack = selectors.ethics_pending(), selectors.conditions_awaiting_acknowledgement()
    context = {
        "pending": pending[:10], "pending_count": pending.count(),
        "awaiting_ack": awaiting_ack[:10], "awaiting_ack_count": awaiting_ack.count(),
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
