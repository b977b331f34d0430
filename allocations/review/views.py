"""Staff pages: the access committee (allocation managers) and reviewers.

Every URL here lives under /staff/, where StaffMFARequiredMiddleware requires a second factor.
Views fetch through the selectors, call one service, and show the service's errors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import manager_required, reviewer_required
from allocations.aid import selectors as aid_selectors
from allocations.aid.choices import CeilingPolicy
from allocations.applications.models import ApplicationStatus
from allocations.applications.selectors import application_for_member, attachments_for_reader
from allocations.applications.services import application_end_date
from allocations.grants import forms as grants_forms
from allocations.grants import selectors as grants_selectors
from allocations.review import forms, presentation, selectors, services
from allocations.review.forms import ReplyForm
from allocations.review.lists import APPLICATION_COLUMNS, APPLICATION_LIST, ASSIGNMENT_COLUMNS, ASSIGNMENT_LIST
from allocations.review.models import AssignmentStatus, ReviewKind
from allocations.review.permissions import can_read_assignment_content
from allocations.review.services import applicant_reply
from portal.forms import apply_validation_error, run_service
from portal.listquery import list_query
from portal.paging import page_of, querystring_without_page
from portal.vocabulary import choice_label


@login_required
def application_feedback(request, reference):
    app = application_for_member(request.user, reference)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            applicant_reply(actor=request.user, application=app, text=form.cleaned_data["text"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Your reply was sent to the committee."))
            return redirect("review:application_feedback", app.reference)
    return render(request, "allocations/review/application_feedback.html", {
        "application": app, **selectors.application_feedback(app), "form": form,
        "allocation": getattr(app, "allocation", None)})


# ------------------------------------------------------------------------------ access committee

@manager_required
def application_list(request):
    query = list_query(APPLICATION_LIST, request.GET)
    return render(request, "allocations/review/application_list.html", {
        "list": query, "page": page_of(request, query.queryset()), "querystring": querystring_without_page(request),
        "headers": query.headers(APPLICATION_COLUMNS)})


@manager_required
def application_eligibility(request, reference):
    app = selectors.application_for_manager(reference)
    form = forms.EligibilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        eligible = form.cleaned_data["eligible"] == "yes"
        try:
            services.application_check_eligibility(actor=request.user, application=app, eligible=eligible,
                                                  reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if eligible:
                messages.success(request, _("%(ref)s is eligible and in review: assign reviewers.") % {
                    "ref": app.reference})
                return redirect("review:application_reviewers", app.reference)
            messages.success(request, _("%(ref)s was found not eligible and rejected.") % {"ref": app.reference})
            return redirect("review:application_list")
    return render(request, "allocations/review/application_eligibility.html", {
        "application": app, "form": form, "content": selectors.application_content(app, viewer=request.user),
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
                services.reviewer_assign(actor=request.user, application=app, reviewer=reviewer, kind=kind)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(name)s was asked for a %(kind)s review.") % {
                    "name": reviewer.display_name, "kind": str(choice_label(ReviewKind, kind)).lower()})
                return redirect("review:application_reviewers", app.reference)
    assignments = list(app.assignments.select_related("reviewer").order_by("kind", "assigned_at"))
    return render(request, "allocations/review/application_reviewers.html", {
        "application": app, "panels": panels, "assignments": assignments,
        "conflicts": selectors.declared_conflicts(app), "max_load": selectors.max_open_assignments(),
        "can_assign": app.status == ApplicationStatus.IN_REVIEW})


def ctx_sites(ctx) -> dict:
    """The requested sites of a decision's context, by id."""
    return {r.site_id: r.site for r in ctx.resources}


@manager_required
def application_decision(request, reference):
    app = selectors.application_for_manager(reference)
    ctx = selectors.decision_context(app)
    mode = app.access_mode
    warn = bool(mode and mode.is_de_minimis and mode.aid_ceiling_policy == CeilingPolicy.WARN)
    approve_form = forms.ApproveForm(resources=ctx.resources, prefix="approve", confirm_above_ceiling=warn)
    reject_form = forms.RejectForm(prefix="reject")
    revise_form = forms.RevisionForm(prefix="revise")
    aid_quotas = None  # the aid preview values what was requested, or the quotas the manager typed
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("approve", "preview"):
            approve_form = forms.ApproveForm(request.POST, resources=ctx.resources, prefix="approve",
                                             confirm_above_ceiling=warn)
            if approve_form.is_valid():
                aid_quotas = approve_form.quotas()
        if action == "approve":
            done = False
            if approve_form.is_valid() and approve_form.summary():
                # Nothing is recorded before the manager has read what the decision grants; the same page lets
                # them set the hours per quarter (prefilled pro rata) and shows what went wrong, field by field.
                confirming = "confirm" in request.POST
                end_date = application_end_date(app)
                split_form = grants_forms.QuarterSplitForm(
                    request.POST if confirming else None, prefix="split", sites=ctx_sites(ctx),
                    needs=grants_selectors.split_needs(approve_form.quotas(), app.start_date, end_date))
                refused = None
                if confirming and split_form.is_valid():
                    try:
                        services.application_approve(
                            actor=request.user, application=app, quotas=approve_form.quotas(),
                            reasons=approve_form.cleaned_data["reasons"], split=split_form.split(),
                            aid_confirmed=approve_form.cleaned_data.get("aid_confirmed", False))
                        done = True
                    except ValidationError as exc:
                        refused = exc
                if refused is not None and not grants_forms.QuarterSplitForm.concerns_split(refused):
                    # Not about the split (the quotas, the aid ceiling, the workflow): back to the decision form.
                    apply_validation_error(approve_form, refused)
                elif not done:
                    if refused is not None:
                        apply_validation_error(split_form, refused)
                    return render(request, "allocations/review/application_approve_confirm.html", {
                        "application": app, "ctx": ctx, "form": approve_form, "quotas": approve_form.summary(),
                        "end_date": end_date, "split_form": split_form})
            elif approve_form.is_valid():
                done = run_service(approve_form, lambda: services.application_approve(
                    actor=request.user, application=app, quotas=approve_form.quotas(),
                    reasons=approve_form.cleaned_data["reasons"],
                    aid_confirmed=approve_form.cleaned_data.get("aid_confirmed", False)))
            message = _("%(ref)s approved: the allocation was created.")
        elif action == "reject":
            reject_form = forms.RejectForm(request.POST, prefix="reject")
            done = reject_form.is_valid() and run_service(reject_form, lambda: services.application_reject(
                actor=request.user, application=app, reasons=reject_form.cleaned_data["reasons"]))
            message = _("%(ref)s rejected.")
        elif action == "revise":
            revise_form = forms.RevisionForm(request.POST, prefix="revise")
            done = revise_form.is_valid() and run_service(revise_form, lambda: services.application_request_revision(
                actor=request.user, application=app, comments=revise_form.cleaned_data["comments"]))
            message = _("A revision of %(ref)s was requested.")
        else:
            done, message = False, ""
        if done:
            messages.success(request, message % {"ref": app.reference})
            return redirect("review:application_list")
    can_decide = app.status == ApplicationStatus.AWAITING_DECISION
    return render(request, "allocations/review/application_decision.html", {
        "application": app, "ctx": ctx, **attachments_for_reader(request.user, app),
        "approve_form": approve_form, "reject_form": reject_form,
        "aid": aid_selectors.decision_preview(app, aid_quotas) if can_decide else None,
        "revise_form": revise_form, "can_decide": can_decide,
        "score_levels": presentation.levels(presentation.rubric_scale(app.access_mode.rubric if app.access_mode
                                                                      else [])),
        "can_reject_or_revise": app.status in selectors.OPEN_STATUSES})


@manager_required
def overdue_board(request):
    """Decisions and reviews past (or near) their dates, the most overdue first; each list has its own pages
    (``?decisions=2``, ``?reviews=2``), the other's page kept."""
    today = timezone.localdate()
    return render(request, "allocations/review/overdue.html", {
        "today": today,
        "applications": page_of(request, selectors.applications_due(today=today), param="decisions"),
        "applications_qs": querystring_without_page(request, param="decisions"),
        "assignments": page_of(request, selectors.assignments_overdue(today=today), param="reviews"),
        "assignments_qs": querystring_without_page(request, param="reviews")})


# -------------------------------------------------------------------------------------- reviewers

@reviewer_required
def assignment_list(request):
    # Paginated: a reviewer accumulates hundreds of past assignments; open ones sort first.
    query = list_query(ASSIGNMENT_LIST, request.GET)
    page = page_of(request, query.queryset(reviewer=request.user), narrow=True)
    today = timezone.localdate()
    for a in page:
        a.late = selectors.assignment_late(a, today)
    return render(request, "allocations/review/assignment_list.html", {
        "list": query, "page": page, "querystring": querystring_without_page(request),
        "headers": query.headers(ASSIGNMENT_COLUMNS)})


@reviewer_required
def assignment_detail(request, pk):
    """Before the declaration: reference and organisation only. After: the content and the rubric."""
    a = selectors.assignment_for_reviewer(request.user, pk)
    app = a.application
    context = {"assignment": a, "application": app}
    if not can_read_assignment_content(a):
        if a.status == AssignmentStatus.ASSIGNED:
            context["declaration_form"] = forms.DeclarationForm()
        return render(request, "allocations/review/assignment_declare.html", context)
    rubric = (app.access_mode.rubric if app.access_mode else []) or []
    form = forms.ReviewForm(request.POST or None, rubric=rubric)
    if request.method == "POST" and a.status == AssignmentStatus.ACCEPTED and form.is_valid():
        try:
            services.review_submit(actor=request.user, assignment=a, scores=form.scores(),
                                  recommendation=form.cleaned_data["recommendation"],
                                  comments_for_committee=form.cleaned_data["comments_for_committee"],
                                  comments_for_applicant=form.cleaned_data["comments_for_applicant"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Thank you: your review of %(ref)s was submitted.") % {
                "ref": app.reference})
            return redirect("review:assignment_list")
    review = getattr(a, "review", None) if a.status == AssignmentStatus.SUBMITTED else None
    context.update({"content": selectors.application_content(app, viewer=request.user), "form": form,
                    "review": review, "score_levels": presentation.levels(presentation.rubric_scale(rubric)),
                    "review_scores": presentation.score_rows(rubric, review.scores) if review else []})
    return render(request, "allocations/review/assignment_review.html", context)


@reviewer_required
@require_POST
def assignment_declare(request, pk):
    a = selectors.assignment_for_reviewer(request.user, pk)
    form = forms.DeclarationForm(request.POST)
    if form.is_valid():
        has_conflict = form.cleaned_data["has_conflict"] == "yes"
        try:
            services.reviewer_declare(actor=request.user, assignment=a, has_conflict=has_conflict,
                                     statement=form.cleaned_data["statement"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if has_conflict:
                messages.success(request, _("Your conflict of interest was recorded; the committee will reassign "
                                            "this review."))
                return redirect("review:assignment_list")
            return redirect("review:assignment_detail", a.pk)
    return render(request, "allocations/review/assignment_declare.html", {
        "assignment": a, "application": a.application, "declaration_form": form}, status=400)
