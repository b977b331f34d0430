"""The applicant journey. Views fetch through a selector, call one service and render; nothing more."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.permissions import has_oversight
from accounts.selectors import organisations_for
from allocations.applications import presentation, selectors, services
from allocations.applications.declaration import DECLARATION_VERSION, declaration_statements
from allocations.applications.forms import (
    AIActForm,
    AIModelForm,
    ApplicationCreateForm,
    AttachmentForm,
    EthicsIssuesForm,
    ListFilterForm,
    ProjectForm,
    ResourcesForm,
    SiteResourceForm,
    SubmitForm,
    TeamMemberForm,
    WithdrawForm,
)
from allocations.applications.models import ApplicationStatus
from allocations.applications.permissions import can_read_attachments, is_applicant_member
from allocations.applications.presentation import STEP_BY_SLUG, STEPS
from allocations.catalogue import selectors as catalogue_selectors
from compliance import selectors as compliance_selectors
from compliance import services as compliance_services
from compliance.ai_act import engine, risk_class_label
from portal.forms import apply_validation_error, run_with_message

PAGE_SIZE = 25


def _language() -> str:
    return engine.supported_language(translation.get_language())


def _read_only_message(application) -> str:
    if application.status == ApplicationStatus.REVISION_REQUESTED:
        return _("The committee asked for a revision: choose Revise on the application page to edit it again.")
    return _("This application was submitted and is read-only; your changes were not saved.")


def application_view(*, methods=("GET", "POST"), fetch=selectors.application_for_member, step: str | None = None):
    """Fetch the application first (404 for anyone who may not see it), then check the method, so
    that no response tells an outsider more than "not found".

    For a step page, also refuse changes once the application is no longer a draft: the services
    refuse them too; this gives the person a clear message instead of an error."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, reference, *args, **kwargs):
            app = fetch(request.user, reference)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            if step is not None and request.method == "POST" and not app.is_editable:
                messages.error(request, _read_only_message(app))
                return redirect(STEP_BY_SLUG[step].url(app))
            return view(request, app, *args, **kwargs)

        return wrapper

    return decorator


def application_step(slug: str, fetch=selectors.application_for_member):
    return application_view(fetch=fetch, step=slug)


def _render_step(request, app, slug: str, context: dict, problems=None, *, saved: bool = False):
    """Render a step; after a save (`saved`), say "Saved." and move on only when the step has no problem.

    A refused save (forms with errors) shows the errors in a summary at the top, each linking to its
    field: nothing was saved. A save that leaves problems in the step shows them the same way, at their
    fields: it was saved, with problems to fix. A page just opened lists the step's problems at the top,
    without marking the fields."""
    if problems is None:
        problems = services.validate_for_submission(app)
    step_problems = [p for p in problems if p.step == slug]
    if saved and not step_problems:
        return _saved(request, app, slug)
    step = STEP_BY_SLUG[slug]
    index = STEPS.index(step)
    context = {
        "application": app, "step": step, "editable": app.is_editable,
        "steps": presentation.step_navigation(app, slug, problems),
        "previous_step": STEPS[index - 1] if index else None,
        "next_step": STEPS[index + 1] if index + 1 < len(STEPS) else None,
        "problems": problems, **context,
    }
    forms = context.setdefault("error_forms", [context["form"]] if "form" in context else [])
    if saved:
        general = presentation.attach_problems(step_problems, forms)
        context.update(summary=presentation.error_summary(forms, general), summary_title=ngettext(
            "Saved, with %(n)s problem to fix before you can submit",
            "Saved, with %(n)s problems to fix before you can submit", len(step_problems)) % {
                "n": len(step_problems)})
        if "continue" in request.POST and context["next_step"]:
            context["summary_next"] = context["next_step"]
    elif any(f.errors for f in forms):
        context.update(summary=presentation.error_summary(forms), summary_title=context.get(
            "refused_title") or _("Nothing was saved: please correct the following"))
    elif app.is_editable:
        context["todo"] = presentation.problem_links(step_problems, forms)
    return render(request, f"allocations/step_{slug}.html", context)


def _errors(*forms) -> dict:
    return {"error_forms": forms, "has_errors": any(f.errors for f in forms)}


def _saved(request, app, slug: str):
    """After a save with nothing left to fix in the step: stay on it, or go on ("Save and continue")."""
    messages.success(request, _("Saved. Your draft is kept; you can come back to it at any time."))
    step = STEP_BY_SLUG[slug]
    if "continue" in request.POST:
        index = STEPS.index(step)
        step = STEPS[min(index + 1, len(STEPS) - 1)]
    return redirect(step.url(app))


def _save_step(request, forms, save):
    """Run a service when every form is valid; put its ValidationError on the first form.

    Returns the saved application, or None (not a POST, or nothing saved)."""
    if request.method != "POST" or not all([f.is_valid() for f in forms]):
        return None
    try:
        return save()
    except ValidationError as exc:
        apply_validation_error(forms[0], exc)
        return None


# --------------------------------------------------------------------------------- list and create


@login_required
def application_list(request):
    modes = catalogue_selectors.active_access_modes()
    form = ListFilterForm(request.GET or None, modes=modes,
                          organisations=selectors.list_filter_organisations(request.user),
                          oversight=has_oversight(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    applications = selectors.application_list(
        request.user, search=filters.get("q", ""), status=filters.get("status", ""),
        access_mode=filters.get("access_mode"), organisation=filters.get("organisation"))
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "allocations/application_list.html",
                  {"form": form, "page": page, "query": query.urlencode()})


@login_required
def application_create(request):
    organisations = organisations_for(request.user)
    form = ApplicationCreateForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            app = services.application_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Application %(reference)s started. Fill in the steps in any order; "
                                        "everything you save is kept.") % {"reference": app.reference})
            return redirect(STEPS[0].url(app))
    return render(request, "allocations/application_create.html", {
        "form": form, "has_organisations": organisations.exists(), **_errors(form)})


@application_view(methods=("GET",), fetch=selectors.application_detail)
def application_detail(request, app):
    assessment = selectors.risk_assessment_of(app)
    context = {
        "application": app,
        "is_member": is_applicant_member(request.user, app),
        "can_read_attachments": can_read_attachments(request.user, app),
        "resources": app.resources.all(),
        "assessment": assessment,
        "assessment_label": risk_class_label(assessment.classification) if assessment else "",
        "result": compliance_selectors.assessment_result(app, assessment, _language()),
        "expectation": presentation.expectation(app),
        "can_withdraw": presentation.can_withdraw(app),
        "allocation_url": presentation.allocation_url(app),
        "end_date": services.application_end_date(app),
        "ethics_rows": presentation.ethics_rows(app),
        "declaration": selectors.latest_declaration(app),
        "timeline": [{"entry": e, "text": presentation.action_text(e.action, e.changes)}
                     for e in selectors.application_timeline(app, viewer=request.user)],
    }
    return render(request, "allocations/application_detail.html", context)


# --------------------------------------------------------------------------------- steps 1-3


@application_step("project")
def step_project(request, app):
    form = ProjectForm(request.POST or None, instance=app)
    saved = _save_step(request, [form], lambda: services.application_update_step(
        actor=request.user, application=app, step="project", data=form.cleaned_data))
    return _render_step(request, saved or app, "project", {"form": form}, saved=saved is not None)


@application_step("resources")
def step_resources(request, app):
    data = request.POST or None
    form = ResourcesForm(data, instance=app, modes=catalogue_selectors.active_access_modes(),
                         calls=catalogue_selectors.calls_to_offer(app.call))
    current = {r.site_id: r for r in selectors.application_resources(app)}
    site_forms = [SiteResourceForm(data, site=site, initial=_resource_initial(current.get(site.pk)))
                  for site in catalogue_selectors.active_sites()]
    saved = _save_step(request, [form, *site_forms], lambda: services.application_save_resources(
        actor=request.user, application=app, data=form.cleaned_data, rows=[f.row() for f in site_forms]))
    shown = saved or app
    capacities = catalogue_selectors.capacities_over(shown.start_date, services.application_end_date(shown))
    sites = [{"form": f, "quarters": capacities.get(f.site.pk, [])} for f in site_forms]
    return _render_step(request, shown, "resources", {
        "form": form, "sites": sites, "resources": selectors.application_resources(shown),
        "error_forms": [form, *site_forms]}, saved=saved is not None)


def _resource_initial(resource) -> dict:
    if resource is None:
        return {}
    return {"gpu_hours": resource.gpu_hours, "cpu_core_hours": resource.cpu_core_hours,
            "storage_tb": resource.storage_tb}


@application_step("model")
def step_model(request, app):
    form = AIModelForm(request.POST or None, instance=app)
    saved = _save_step(request, [form], lambda: services.application_update_step(
        actor=request.user, application=app, step="model", data=form.cleaned_data))
    return _render_step(request, saved or app, "model", {"form": form}, saved=saved is not None)


# --------------------------------------------------------------------------------- step 4: AI Act


@application_step("ai_act")
def step_ai_act(request, app):
    ruleset = engine.load_ruleset(engine.DEFAULT_RULESET)
    language = _language()
    form = AIActForm(request.POST or None, questions=ruleset.questions, language=language,
                     answers=_saved_answers(app))

    def save():
        compliance_services.assessment_save(actor=request.user, application=app, answers=form.answers())
        # Each visible question still without an answer is a problem at that question.
        for question_id in engine.missing_answers(ruleset, engine.clean_answers(ruleset, form.answers())):
            form.add_error(question_id, _("Answer this question."))
        if selectors.risk_assessment_of(app).result.get("contradictions"):
            messages.warning(request, _("The assessment cannot conclude yet: the result below says what is "
                                        "missing or contradictory."))
        return app

    saved = _save_step(request, [form], save)
    assessment = selectors.risk_assessment_of(app)
    visible = {q.id for q in engine.visible_questions(ruleset, form.current_answers())}
    return _render_step(request, app, "ai_act", {
        "form": form, "items": form.items(visible), "ruleset_title": ruleset.title[language],
        "result": compliance_selectors.assessment_result(app, assessment, language),
        "answered": _answered(ruleset, dict(assessment.answers) if assessment else {}, language)},
        saved=saved is not None)


def _saved_answers(app) -> dict:
    assessment = selectors.risk_assessment_of(app)
    return dict(assessment.answers) if assessment else {}


def _answered(ruleset, answers: dict, language: str) -> list[dict]:
    """Visible questions with the saved answer's labels, for the read-only view."""
    rows = []
    for q in engine.visible_questions(ruleset, answers):
        labels = {o.value: o.label[language] for o in q.options}
        value = answers.get(q.id)
        if isinstance(value, list):
            text = ", ".join(labels.get(v, v) for v in value)
        else:
            text = labels.get(value, "—") if value else "—"
        rows.append({"question": q.text[language], "answer": text})
    return rows


# --------------------------------------------------------------------------------- step 5: team


@application_step("team")
def step_team(request, app):
    form = TeamMemberForm(request.POST or None)
    if _save_step(request, [form], lambda: services.team_member_add(
            actor=request.user, application=app, **form.cleaned_data)):
        messages.success(request, _("%(name)s was added; we sent them an e-mail to confirm.") % {
            "name": form.cleaned_data["full_name"]})
        return redirect(STEP_BY_SLUG["team"].url(app))
    return _render_step(request, app, "team", {"form": form, "team": app.team.all()})


@application_view(methods=("POST",))
def team_member_remove(request, app, pk):
    member = selectors.team_member_in(app, pk)
    run_with_message(request, lambda: services.team_member_remove(actor=request.user, member=member),
                     _("%(name)s was removed from the team.") % {"name": member.full_name})
    return redirect(STEP_BY_SLUG["team"].url(app))


@require_http_methods(["GET", "POST"])
def team_confirm(request, token):
    """Public: the mailed link proves the address; confirming is a POST so that link scanners cannot."""
    if request.method == "POST":
        try:
            member = services.team_member_confirm(token=token, actor=request.user)
        except ValidationError as exc:
            return render(request, "allocations/team_confirm.html", {"error": " ".join(exc.messages)}, status=404)
        return render(request, "allocations/team_confirm.html", {"member": member, "confirmed": True})
    return render(request, "allocations/team_confirm.html", {})


# --------------------------------------------------------------------------------- step 6: ethics


@application_step("ethics")
def step_ethics(request, app):
    form = EthicsIssuesForm(request.POST or None, issues=app.ethics_issues)
    saved = _save_step(request, [form], lambda: services.application_set_ethics_issues(
        actor=request.user, application=app, issues=form.issues()))
    return _render_step(request, saved or app, "ethics", {"form": form}, saved=saved is not None)


# --------------------------------------------------------------------------------- step 7: attachments


@application_step("attachments")
def step_attachments(request, app):
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if _save_step(request, [form], lambda: services.attachment_add(
            actor=request.user, application=app, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"])):
        messages.success(request, _("%(name)s was attached.") % {"name": form.cleaned_data["file"].name})
        return redirect(STEP_BY_SLUG["attachments"].url(app))
    return _render_step(request, app, "attachments", {"form": form, "attachments": app.attachments.all()})


@application_view(methods=("POST",))
def attachment_delete(request, app, pk):
    attachment = selectors.attachment_in(app, pk)
    run_with_message(request, lambda: services.attachment_remove(actor=request.user, attachment=attachment),
                     _("%(name)s was removed.") % {"name": attachment.original_name})
    return redirect(STEP_BY_SLUG["attachments"].url(app))


@application_view(methods=("GET",), fetch=selectors.application_for_attachment_reader)
def attachment_download(request, app, pk):
    """Whoever the attachment rule (applications.permissions.attachment_access) lets read; everyone else
    gets 404. A download by staff is audited by the service."""
    attachment = selectors.attachment_in(app, pk)
    path = services.attachment_read(actor=request.user, attachment=attachment)
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=attachment.download_name,
                        content_type="application/pdf")


# --------------------------------------------------------------------------------- step 8 and transitions


@application_step("review", fetch=selectors.application_detail_for_member)
def step_review(request, app):
    if request.method == "POST":  # the Submit button posts to application_submit; nothing to save here
        return redirect(STEP_BY_SLUG["review"].url(app))
    return _render_review(request, app, SubmitForm(initial={"declaration_version": DECLARATION_VERSION}))


def _render_review(request, app, form):
    assessment = selectors.risk_assessment_of(app)
    problems = services.validate_for_submission(app)
    return _render_step(request, app, "review", {
        "form": form, "declaration": declaration_statements(app) if app.is_editable else [],
        "refused_title": _("The application was not submitted: please correct the following"),
        "grouped_problems": presentation.problems_by_step(app, problems),
        "resources": app.resources.all(), "assessment": assessment,
        "assessment_label": risk_class_label(assessment.classification) if assessment else "",
        "end_date": services.application_end_date(app), "ethics_rows": presentation.ethics_rows(app),
        "can_read_attachments": True},  # members only: fetched by application_detail_for_member
        problems=problems)


@application_view(methods=("POST",), fetch=selectors.application_detail_for_member)
def application_submit(request, app):
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _render_review(request, app, form)
    try:
        app = services.application_submit(actor=request.user, application=app,
                                          declaration_version=form.cleaned_data["declaration_version"])
    except services.SubmissionIncomplete as exc:
        messages.error(request, ngettext(
            "The application cannot be submitted yet: %(n)s thing needs your attention (listed below).",
            "The application cannot be submitted yet: %(n)s things need your attention (listed below).",
            len(exc.messages)) % {"n": len(exc.messages)})
        return redirect(STEP_BY_SLUG["review"].url(app))
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _render_review(request, app, form)
    messages.success(request, _("Application %(reference)s was submitted. We will keep you informed by e-mail.")
                     % {"reference": app.reference})
    return redirect(app.get_absolute_url())


@application_view()
def application_withdraw(request, app):
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        run_with_message(request, lambda: services.application_withdraw(
            actor=request.user, application=app, reason=form.cleaned_data["reason"]),
            _("Application %(reference)s was withdrawn.") % {"reference": app.reference})
        return redirect(app.get_absolute_url())
    return render(request, "allocations/application_withdraw.html", {
        "application": app, "form": form, "can_withdraw": presentation.can_withdraw(app), **_errors(form)})


@application_view(methods=("POST",))
def application_reopen(request, app):
    try:
        services.application_reopen(actor=request.user, application=app)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(app.get_absolute_url())
    messages.success(request, _("The application is a draft again: revise it and submit it when ready."))
    return redirect(STEPS[0].url(app))
