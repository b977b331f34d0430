"""The applicant's side of reviews and allocations: feedback and the right to reply, the granted
allocation, ethics conditions to acknowledge, and change requests. Views stay thin: selectors read,
services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import manager_required
from allocations.applications.services import team_member_resend as team_member_resend_service
from allocations.grants import connection, forms, selectors, services
from allocations.grants.forms import CHANGE_FORMS
from allocations.grants.lists import (
    ALLOCATION_COLUMNS,
    ALLOCATION_LIST,
    CHANGE_REQUEST_COLUMNS,
    CHANGE_REQUEST_LIST,
    CHANGE_REQUESTS_TO_DECIDE,
)
from allocations.grants.models import AllocationStatus, ChangeKind, ChangeStatus
from allocations.grants.services import change_request_submit
from allocations.grants.workflow import ALLOCATION_WORKFLOW
from allocations.outcomes.selectors import final_report_of
from allocations.outcomes.services import final_report_due_date
from allocations.terms import selectors as terms_selectors
from compliance.services import condition_acknowledge
from portal.forms import apply_validation_error, run_service
from portal.listquery import list_query
from portal.paging import page_of, querystring_without_page


@login_required
def allocation_list(request):
    return render(request, "allocations/grants/allocation_list.html", {
        "allocations": selectors.allocations_of_member(request.user)})


@login_required
def allocation_detail(request, reference):
    alloc = selectors.allocation_of_member(request.user, reference)
    return _render_detail(request, alloc)


def _render_detail(request, alloc, *, evidence_form=None, evidence_condition=None, status=200):
    quotas = selectors.quota_usage(alloc)
    return render(request, "allocations/grants/allocation_detail.html", {
        "allocation": alloc, "quotas": quotas, "team": selectors.allocation_team(alloc),
        "conditions": selectors.allocation_conditions(alloc), "change_requests": alloc.change_requests.all(),
        "change_kinds": ChangeKind.choices, "final_report": final_report_of(alloc),
        "final_report_due": final_report_due_date(alloc), "terms_rows": terms_selectors.allocation_terms(alloc),
        "my_pending_terms": terms_selectors.pending_for(request.user), "connections": connection.connections(alloc),
        "site_usage": connection.site_usage(alloc), "evidence_form": evidence_form or forms.EvidenceForm(),
        "evidence_condition": evidence_condition}, status=status)


@login_required
@require_POST
def condition_evidence(request, reference, pk):
    """Upload the PDF a condition asks for; a refused file is shown next to the condition's field."""
    alloc = selectors.allocation_of_member(request.user, reference)
    condition = selectors.condition_of_allocation(alloc, pk)
    form = forms.EvidenceForm(request.POST, request.FILES)
    if form.is_valid() and run_service(form, lambda: services.condition_evidence_submit(
            actor=request.user, allocation=alloc, condition=condition, upload=form.cleaned_data["file"])):
        messages.success(request, _("Evidence uploaded: an ethics officer will examine it."))
        return redirect("grants:allocation_detail", alloc.reference)
    return _render_detail(request, alloc, evidence_form=form, evidence_condition=condition.pk, status=400)


@login_required
@require_POST
def team_member_resend(request, reference, pk):
    alloc = selectors.allocation_of_member(request.user, reference)
    member = selectors.team_member_of_allocation(alloc, pk)
    try:
        team_member_resend_service(actor=request.user, member=member)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The confirmation link was sent again to %(name)s.") % {"name": member.full_name})
    return redirect("grants:allocation_detail", alloc.reference)


@login_required
@require_POST
def condition_ack(request, reference, pk):
    alloc = selectors.allocation_of_member(request.user, reference)
    condition = selectors.condition_of_allocation(alloc, pk)
    condition_acknowledge(actor=request.user, condition=condition)
    messages.success(request, _("Condition acknowledged."))
    return redirect("grants:allocation_detail", alloc.reference)


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
            return redirect("grants:allocation_detail", alloc.reference)
    return render(request, "allocations/grants/change_request_form.html", {
        "allocation": alloc, "form": form, "kind_label": ChangeKind(kind).label})


@login_required
@require_POST
def change_request_withdraw(request, reference, pk):
    alloc = selectors.allocation_of_member(request.user, reference)
    cr = selectors.change_request_of_allocation(alloc, pk)
    try:
        services.change_request_withdraw(actor=request.user, change_request=cr)
    except ValidationError as exc:  # decided meanwhile (a TransitionError is a ValidationError)
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Change request withdrawn."))
    return redirect("grants:allocation_detail", alloc.reference)


@manager_required
def capacity(request):
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return render(request, "allocations/grants/capacity.html", {
        "year": year, "years": selectors.capacity_years(), "quarters": selectors.capacity_by_quarter(year=year)})


@manager_required
def staff_allocation_list(request):
    query = list_query(ALLOCATION_LIST, request.GET)
    return render(request, "allocations/grants/staff_allocation_list.html", {
        "list": query, "page": page_of(request, query.queryset()), "querystring": querystring_without_page(request),
        "headers": query.headers(ALLOCATION_COLUMNS)})


ACTION_TARGET = {"suspend": AllocationStatus.SUSPENDED, "resume": AllocationStatus.ACTIVE,
                 "revoke": AllocationStatus.REVOKED}


@manager_required
def staff_allocation_detail(request, reference):
    alloc = selectors.allocation_for_manager(reference)
    # Offer only what the transition table allows from here, as "manager" moves.
    offered = [a for a, target in ACTION_TARGET.items() if ALLOCATION_WORKFLOW.may(request.user, alloc, target)]
    form = forms.AllocationActionForm(request.POST or None, allowed=offered)
    if request.method == "POST" and form.is_valid():
        service = {"suspend": services.allocation_suspend, "resume": services.allocation_resume,
                   "revoke": services.allocation_revoke}[form.cleaned_data["action"]]
        if run_service(form, lambda: service(actor=request.user, allocation=alloc, reason=form.cleaned_data["reason"])):
            messages.success(request, _("%(ref)s updated; the clusters follow within minutes.") % {
                "ref": alloc.reference})
            return redirect("grants:staff_allocation_detail", alloc.reference)
    sites = selectors.sites_by_id()
    changes = [(cr, selectors.describe_change(cr, sites)) for cr in alloc.change_requests.all()]
    return render(request, "allocations/grants/staff_allocation_detail.html", {
        "allocation": alloc, "form": form, "offered": offered, "changes": changes,
        "team": selectors.allocation_team(alloc)})


@manager_required
def change_request_list(request):
    # Without a query string the page lists the requests to decide, the longest waiting first.
    params = request.GET or QueryDict(urlencode(CHANGE_REQUESTS_TO_DECIDE))
    query = list_query(CHANGE_REQUEST_LIST, params)
    page = page_of(request, query.queryset())
    sites = selectors.sites_by_id()
    rows = [(cr, selectors.describe_change(cr, sites),
             forms.ChangeDecisionForm(prefix=f"cr{cr.pk}", top_up=cr.kind == ChangeKind.TOP_UP)
             if cr.status == ChangeStatus.SUBMITTED else None)
            for cr in page]
    return render(request, "allocations/grants/change_request_list.html", {
        "list": query, "page": page, "rows": rows, "querystring": querystring_without_page(request, params),
        "headers": query.headers(CHANGE_REQUEST_COLUMNS)})


@manager_required
@require_POST
def change_request_decide(request, pk):
    """Record the decision on a change request. Approving a top-up, the manager may first set how the hours
    left are reserved per quarter ("split_step": a confirmation page with the pro-rata split prefilled, each
    quarter beside what it has free); the decision is recorded only when that page is confirmed."""
    cr = selectors.change_request_for_manager(pk)
    top_up = cr.kind == ChangeKind.TOP_UP
    form = forms.ChangeDecisionForm(request.POST, prefix=f"cr{pk}", top_up=top_up)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("grants:change_request_list")
    approve = form.cleaned_data["decision"] == "approve"
    if "split_step" in request.POST and not (approve and top_up):
        messages.error(request, _("Hours per quarter are set only when approving a top-up: choose "
                                  "“Approve the change”."))
        return redirect("grants:change_request_list")
    split_form = None
    if approve and top_up and ("split_step" in request.POST or "confirm" in request.POST):
        sites = selectors.sites_by_id()
        split_form = forms.QuarterSplitForm(request.POST if "confirm" in request.POST else None, prefix="split",
                                            sites=sites, needs=selectors.top_up_split_needs(cr))
        if "confirm" not in request.POST or not split_form.is_valid():
            return _top_up_confirm(request, cr, form, split_form, sites)
    try:
        services.change_request_decide(actor=request.user, change_request=cr, approve=approve,
                                        reason=form.cleaned_data["reason"],
                                        aid_confirmed=form.cleaned_data.get("aid_confirmed", False),
                                        split=split_form.split() if split_form is not None else None)
    except ValidationError as exc:
        if split_form is not None and forms.QuarterSplitForm.concerns_split(exc):
            apply_validation_error(split_form, exc)
            return _top_up_confirm(request, cr, form, split_form, sites)
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, (_("Change to %(ref)s approved.") if approve else
                                   _("Change to %(ref)s rejected.")) % {"ref": cr.allocation.reference})
    return redirect("grants:change_request_list")


def _top_up_confirm(request, cr, form, split_form, sites):
    return render(request, "allocations/grants/top_up_confirm.html", {
        "cr": cr, "lines": selectors.describe_change(cr, sites), "form": form, "split_form": split_form})
