"""The applicant's side of reviews and allocations: feedback and the right to reply, the granted
allocation, ethics conditions to acknowledge, and change requests. Views stay thin: selectors read,
services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.services import condition_acknowledge
from portal.forms import apply_validation_error

from . import selectors_lifecycle as selectors
from .forms_lifecycle import CHANGE_FORMS, ReplyForm
from .models import ChangeKind, Decision
from .services.lifecycle import change_request_submit
from .services.reviews import applicant_reply, reply_window_open


@login_required
def application_feedback(request, reference):
    app = selectors.application_of_member(request.user, reference)
    can_reply = reply_window_open(app) and getattr(app, "reply", None) is None
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            applicant_reply(actor=request.user, application=app, text=form.cleaned_data["text"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Your reply was sent to the committee."))
            return redirect("lifecycle:application_feedback", app.reference)
    decisions = Decision.objects.filter(application=app).order_by("decided_at")
    return render(request, "allocations/lifecycle/application_feedback.html", {
        "application": app, "reviews": selectors.feedback_for_applicant(app), "decisions": decisions,
        "reply": getattr(app, "reply", None), "can_reply": can_reply, "form": form,
        "allocation": getattr(app, "allocation", None)})


@login_required
def allocation_list(request):
    return render(request, "allocations/lifecycle/allocation_list.html", {
        "allocations": selectors.allocations_of_member(request.user)})


@login_required
def allocation_detail(request, reference):
    alloc = selectors.allocation_of_member(request.user, reference)
    usage = selectors.latest_usage(alloc)
    quotas = []
    for q in alloc.quotas.all():
        snap = usage.get(q.site_id)
        used = round(snap.gpu_minutes / 60) if snap else None
        quotas.append({"quota": q, "gpu_used": used,
                       "gpu_percent": round(100 * used / q.gpu_hours) if used is not None and q.gpu_hours else None})
    return render(request, "allocations/lifecycle/allocation_detail.html", {
        "allocation": alloc, "quotas": quotas, "team": selectors.allocation_team(alloc),
        "conditions": selectors.allocation_conditions(alloc), "change_requests": alloc.change_requests.all(),
        "change_kinds": ChangeKind.choices})


@login_required
@require_POST
def condition_ack(request, reference, pk):
    alloc = selectors.allocation_of_member(request.user, reference)
    condition = selectors.condition_of_allocation(alloc, pk)
    condition_acknowledge(actor=request.user, condition=condition)
    messages.success(request, _("Condition acknowledged."))
    return redirect("lifecycle:allocation_detail", alloc.reference)


@login_required
def change_request_new(request, reference, kind):
    alloc = selectors.allocation_of_member(request.user, reference)
    form_class = CHANGE_FORMS.get(kind)
    if form_class is None:
        raise Http404
    kwargs = {"sites": [q.site for q in alloc.quotas.all()]} if kind == ChangeKind.TOP_UP else {}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            change_request_submit(actor=request.user, allocation=alloc, kind=kind, payload=form.payload(),
                                  justification=form.cleaned_data["justification"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Your request was sent to the access committee."))
            return redirect("lifecycle:allocation_detail", alloc.reference)
    return render(request, "allocations/lifecycle/change_request_form.html", {
        "allocation": alloc, "form": form, "kind_label": ChangeKind(kind).label})
