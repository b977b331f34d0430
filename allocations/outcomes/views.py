"""Pages of the final report and the outputs: the organisation writes and submits, records outputs; the
allocation managers list, review and grant exceptions. Views stay thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import manager_required
from allocations.grants.selectors import allocation_of_member
from portal.forms import run_service, run_with_message
from portal.listquery import list_query
from portal.paging import page_of, querystring_without_page

from . import selectors, services
from .forms import FinalReportForm, OutputForm, OverrideForm, ReviewForm
from .lists import FINAL_REPORT_COLUMNS, FINAL_REPORT_LIST


@login_required
def final_report(request, reference):
    alloc = allocation_of_member(request.user, reference)
    # Opened by the daily sweep; a member who comes first opens it now (the same idempotent service).
    report = services.final_report_open(allocation=alloc)
    if report is None:
        raise Http404
    data = request.POST if request.method == "POST" else None
    form = FinalReportForm(data, sections=report.sections, initial=FinalReportForm.initial_from(report))
    if data is not None and report.is_open and form.is_valid():
        submit = "submit" in request.POST
        service = services.final_report_submit if submit else services.final_report_save
        if run_service(form, lambda: service(actor=request.user, report=report, texts=form.texts())):
            messages.success(request, _("Your final report was sent to the access committee.") if submit
                             else _("Your final report was saved as a draft."))
            return redirect("outcomes:final_report", alloc.reference)
    return render(request, "allocations/outcomes/final_report.html", {
        "allocation": alloc, "report": report, "form": form, "outputs": selectors.outputs_of(alloc),
        "may_submit": alloc.end_date <= timezone.localdate() or alloc.is_ended})


@login_required
def outputs(request, reference):
    alloc = allocation_of_member(request.user, reference)
    form = OutputForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_service(form, lambda: services.output_record(
                actor=request.user, allocation=alloc, kind=data["kind"], title=data["title"], link=data["link"],
                doi=data["doi"])):
            messages.success(request, _("Output recorded."))
            return redirect("outcomes:outputs", alloc.reference)
    return render(request, "allocations/outcomes/outputs.html", {
        "allocation": alloc, "form": form, "outputs": selectors.outputs_of(alloc),
        "acknowledgement": selectors.acknowledgement_sentence(alloc),
        "started": not alloc.is_approved and alloc.start_date <= timezone.localdate(),
        "asks_report": services.final_report_due_date(alloc) is not None})


@login_required
@require_POST
def output_remove(request, reference, pk):
    alloc = allocation_of_member(request.user, reference)
    output = selectors.output_of_allocation(alloc, pk)
    run_with_message(request, lambda: services.output_remove(actor=request.user, output=output),
                     _("Output removed."))
    return redirect("outcomes:outputs", alloc.reference)


@manager_required
def staff_final_report_list(request):
    query = list_query(FINAL_REPORT_LIST, request.GET)
    return render(request, "allocations/outcomes/staff_final_report_list.html", {
        "list": query, "page": page_of(request, query.queryset()), "querystring": querystring_without_page(request),
        "headers": query.headers(FINAL_REPORT_COLUMNS), "today": timezone.localdate()})


@manager_required
def staff_final_report(request, reference):
    report = selectors.final_report_for_manager(reference)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        if run_service(form, lambda: services.final_report_review(
                actor=request.user, report=report, accept=accept, comment=form.cleaned_data["comment"])):
            messages.success(request, (_("The final report of %(ref)s is accepted.") if accept else
                                       _("The final report of %(ref)s went back to the organisation.")) % {
                "ref": reference})
            return redirect("outcomes:staff_final_report", reference)
    return _staff_page(request, report, review_form=form, override_form=OverrideForm())


def _staff_page(request, report, *, review_form, override_form):
    today = timezone.localdate()
    return render(request, "allocations/outcomes/staff_final_report.html", {
        "report": report, "allocation": report.allocation, "outputs": selectors.outputs_of(report.allocation),
        "review_form": review_form, "override_form": override_form, "overdue": report.is_overdue_on(today),
        "blocks": bool(getattr(report.allocation.application.access_mode, "final_report_blocks_submission", False)),
        "overrides": selectors.overrides_of(report.allocation.organisation_id)})


@manager_required
@require_POST
def staff_override(request, reference):
    report = selectors.final_report_for_manager(reference)
    form = OverrideForm(request.POST)
    if form.is_valid() and run_service(form, lambda: services.submission_override_grant(
            actor=request.user, organisation=report.allocation.organisation, reason=form.cleaned_data["reason"])):
        messages.success(request, _("%(org)s may submit one application despite the overdue report.") % {
            "org": report.allocation.organisation.legal_name})
        return redirect("outcomes:staff_final_report", reference)
    return _staff_page(request, report, review_form=ReviewForm(), override_form=form)
