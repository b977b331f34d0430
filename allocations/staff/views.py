"""Staff pages: the access committee (allocation managers) and reviewers.

Every URL here lives under /staff/, where StaffMFARequiredMiddleware requires a second factor.
Views fetch through the selectors, call one service, and show the service's errors."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from portal.forms import apply_validation_error

from ..lifecycle import allowed as allocation_allowed
from ..models import AllocationStatus, ApplicationStatus, AssignmentStatus
from ..permissions import can_read_assignment_content
from ..services import decisions, lifecycle, reviews
from . import forms, selectors

PAGE_SIZE = 25


def role_required(role: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


manager_required = role_required(Role.ALLOCATION_MANAGER)
reviewer_required = role_required(Role.REVIEWER)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring(request) -> str:
    """The current filters without the page number, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# ------------------------------------------------------------------------------ access committee

@manager_required
def application_list(request):
    form = forms.OverviewFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.application_overview(status=filters.get("status", ""), mode=filters.get("mode", ""),
                                        site=filters.get("site", ""), search=filters.get("q", ""))
    return render(request, "allocations/staff/application_list.html", {
        "form": form, "page": _page(request, qs), "querystring": _querystring(request)})


@manager_required
def application_eligibility(request, reference):
    app = selectors.application_for_manager(reference)
    form = forms.EligibilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        eligible = form.cleaned_data["eligible"] == "yes"
        try:
            reviews.application_check_eligibility(actor=request.user, application=app, eligible=eligible,
                                                  reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if eligible:
                messages.success(request, _("%(ref)s is eligible and in review: assign reviewers.") % {
                    "ref": app.reference})
                return redirect("staff_alloc:application_reviewers", app.reference)
            messages.success(request, _("%(ref)s was found not eligible and rejected.") % {"ref": app.reference})
            return redirect("staff_alloc:application_list")
    return render(request, "allocations/staff/application_eligibility.html", {
        "application": app, "form": form, "content": selectors.application_content(app),
        "can_check": app.status == ApplicationStatus.SUBMITTED})


@manager_required
def application_reviewers(request, reference):
    app = selectors.application_for_manager(reference)
    kinds = selectors.review_kinds_needed(app)
    panels = []
    for kind, required, assigned in kinds:
        candidates = selectors.reviewer_candidates(app, kind)
        # One form per kind; the prefix tells which one was posted.
        data = request.POST if request.method == "POST" and f"{kind}-reviewer" in request.POST else None
        form = forms.AssignForm(data, candidates=candidates, prefix=kind)
        panels.append({"kind": kind, "required": required, "assigned": assigned, "candidates": candidates,
                       "form": form})
        if data is not None and form.is_valid():
            reviewer = next((c.reviewer for c in candidates if c.reviewer.pk == form.cleaned_data["reviewer"]),
                            None)
            try:
                if reviewer is None:
                    raise ValidationError({"reviewer": _("Choose a reviewer from the eligible pools.")})
                reviews.reviewer_assign(actor=request.user, application=app, reviewer=reviewer, kind=kind)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(name)s was asked for a %(kind)s review.") % {
                    "name": reviewer.display_name, "kind": kind})
                return redirect("staff_alloc:application_reviewers", app.reference)
    assignments = list(app.assignments.select_related("reviewer").order_by("kind", "assigned_at"))
    return render(request, "allocations/staff/application_reviewers.html", {
        "application": app, "panels": panels, "assignments": assignments,
        "can_assign": app.status == ApplicationStatus.IN_REVIEW})


@manager_required
def application_decision(request, reference):
    app = selectors.application_for_manager(reference)
    ctx = selectors.decision_context(app)
    approve_form = forms.ApproveForm(resources=ctx.resources, prefix="approve")
    reject_form = forms.RejectForm(prefix="reject")
    revise_form = forms.RevisionForm(prefix="revise")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "approve":
            approve_form = forms.ApproveForm(request.POST, resources=ctx.resources, prefix="approve")
            done = approve_form.is_valid() and _run(approve_form, lambda: decisions.application_approve(
                actor=request.user, application=app, quotas=approve_form.quotas(),
                reasons=approve_form.cleaned_data["reasons"]))
            message = _("%(ref)s approved: the allocation was created.")
        elif action == "reject":
            reject_form = forms.RejectForm(request.POST, prefix="reject")
            done = reject_form.is_valid() and _run(reject_form, lambda: decisions.application_reject(
                actor=request.user, application=app, reasons=reject_form.cleaned_data["reasons"]))
            message = _("%(ref)s rejected.")
        elif action == "revise":
            revise_form = forms.RevisionForm(request.POST, prefix="revise")
            done = revise_form.is_valid() and _run(revise_form, lambda: decisions.application_request_revision(
                actor=request.user, application=app, comments=revise_form.cleaned_data["comments"]))
            message = _("A revision of %(ref)s was requested.")
        else:
            done, message = False, ""
        if done:
            messages.success(request, message % {"ref": app.reference})
            return redirect("staff_alloc:application_list")
    return render(request, "allocations/staff/application_decision.html", {
        "application": app, "ctx": ctx, "approve_form": approve_form, "reject_form": reject_form,
        "revise_form": revise_form, "can_decide": app.status == ApplicationStatus.AWAITING_DECISION,
        "can_reject_or_revise": app.status in selectors.OPEN_STATUSES})


def _run(form, call) -> bool:
    """Call the service; on a ValidationError attach it to the form and report failure."""
    try:
        call()
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return False
    return True


@manager_required
def overdue_board(request):
    today = timezone.localdate()
    return render(request, "allocations/staff/overdue.html", {
        "today": today, "applications": selectors.applications_due(today=today),
        "assignments": selectors.assignments_overdue(today=today)})


@manager_required
def capacity(request):
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return render(request, "allocations/staff/capacity.html", {
        "year": year, "years": selectors.capacity_years(), "quarters": selectors.capacity_by_quarter(year=year)})


@manager_required
def allocation_list(request):
    form = forms.AllocationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.allocation_overview(status=filters.get("status", ""), sync_state=filters.get("sync_state", ""),
                                       search=filters.get("q", ""))
    return render(request, "allocations/staff/allocation_list.html", {
        "form": form, "page": _page(request, qs), "querystring": _querystring(request)})


ACTION_TARGET = {"suspend": AllocationStatus.SUSPENDED, "resume": AllocationStatus.ACTIVE,
                 "revoke": AllocationStatus.REVOKED}


@manager_required
def allocation_detail(request, reference):
    alloc = selectors.allocation_for_manager(reference)
    # Offer only what the transition table allows from here, as "manager" moves.
    offered = [a for a, target in ACTION_TARGET.items() if allocation_allowed(alloc.status, target) == "manager"]
    form = forms.AllocationActionForm(request.POST or None, allowed=offered)
    if request.method == "POST" and form.is_valid():
        service = {"suspend": lifecycle.allocation_suspend, "resume": lifecycle.allocation_resume,
                   "revoke": lifecycle.allocation_revoke}[form.cleaned_data["action"]]
        if _run(form, lambda: service(actor=request.user, allocation=alloc, reason=form.cleaned_data["reason"])):
            messages.success(request, _("%(ref)s updated; the clusters follow within minutes.") % {
                "ref": alloc.reference})
            return redirect("staff_alloc:allocation_detail", alloc.reference)
    sites = selectors.sites_by_id()
    changes = [(cr, selectors.describe_change(cr, sites)) for cr in alloc.change_requests.all()]
    return render(request, "allocations/staff/allocation_detail.html", {
        "allocation": alloc, "form": form, "offered": offered, "changes": changes,
        "team": selectors.allocation_team(alloc)})


@manager_required
def change_request_list(request):
    sites = selectors.sites_by_id()
    rows = [(cr, selectors.describe_change(cr, sites), forms.ChangeDecisionForm(prefix=f"cr{cr.pk}"))
            for cr in selectors.change_requests_open()]
    return render(request, "allocations/staff/change_request_list.html", {"rows": rows})


@manager_required
@require_POST
def change_request_decide(request, pk):
    cr = selectors.change_request_for_manager(pk)
    form = forms.ChangeDecisionForm(request.POST, prefix=f"cr{pk}")
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            lifecycle.change_request_decide(actor=request.user, change_request=cr, approve=approve,
                                            reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, (_("Change to %(ref)s approved.") if approve else
                                       _("Change to %(ref)s rejected.")) % {"ref": cr.allocation.reference})
    else:
        messages.error(request, _("Choose approve or reject."))
    return redirect("staff_alloc:change_request_list")


# -------------------------------------------------------------------------------------- reviewers

@reviewer_required
def assignment_list(request):
    # Paginated: a reviewer accumulates hundreds of past assignments; open ones sort first.
    page = _page(request, selectors.assignments_of(request.user))
    overdue = {late.obj.pk: late for late in selectors.assignments_overdue(reviewer=request.user)}
    for a in page:
        a.late = overdue.get(a.pk)
    return render(request, "allocations/staff/assignment_list.html", {
        "assignments": page, "page": page, "querystring": _querystring(request)})


@reviewer_required
def assignment_detail(request, pk):
    """Before the declaration: reference and organisation only. After: the content and the rubric."""
    a = selectors.assignment_for_reviewer(request.user, pk)
    app = a.application
    context = {"assignment": a, "application": app}
    if not can_read_assignment_content(a):
        if a.status == AssignmentStatus.ASSIGNED:
            context["declaration_form"] = forms.DeclarationForm()
        return render(request, "allocations/staff/assignment_declare.html", context)
    rubric = (app.access_mode.rubric if app.access_mode else []) or []
    form = forms.ReviewForm(request.POST or None, rubric=rubric)
    if request.method == "POST" and a.status == AssignmentStatus.ACCEPTED and form.is_valid():
        try:
            reviews.review_submit(actor=request.user, assignment=a, scores=form.scores(),
                                  recommendation=form.cleaned_data["recommendation"],
                                  comments_for_committee=form.cleaned_data["comments_for_committee"],
                                  comments_for_applicant=form.cleaned_data["comments_for_applicant"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Thank you: your review of %(ref)s was submitted.") % {
                "ref": app.reference})
            return redirect("staff_alloc:assignment_list")
    context.update(selectors.application_content(app))
    context.update({"form": form, "review": getattr(a, "review", None)
                    if a.status == AssignmentStatus.SUBMITTED else None})
    return render(request, "allocations/staff/assignment_review.html", context)


@reviewer_required
@require_POST
def assignment_declare(request, pk):
    a = selectors.assignment_for_reviewer(request.user, pk)
    form = forms.DeclarationForm(request.POST)
    if form.is_valid():
        has_conflict = form.cleaned_data["has_conflict"] == "yes"
        try:
            reviews.reviewer_declare(actor=request.user, assignment=a, has_conflict=has_conflict,
                                     statement=form.cleaned_data["statement"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if has_conflict:
                messages.success(request, _("Your conflict of interest was recorded; the committee will reassign "
                                            "this review."))
                return redirect("staff_alloc:assignment_list")
            return redirect("staff_alloc:assignment_detail", a.pk)
    return render(request, "allocations/staff/assignment_declare.html", {
        "assignment": a, "application": a.application, "declaration_form": form}, status=400)
