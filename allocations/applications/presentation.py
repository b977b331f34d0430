"""What the applicant pages say: step names, human text for audit actions and statuses.

Text only; no queries and no business rules (those live in services/)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocations.applications.models import Application, ApplicationStatus, EthicsIssue
from allocations.applications.workflow import WITHDRAWABLE
from portal.audit import AuditAction, action_label


@dataclass(frozen=True)
class Step:
    slug: str  # also the Problem.step name used by services.validate_for_submission
    number: int
    label: str
    url_name: str

    def url(self, application: Application) -> str:
        return reverse(self.url_name, args=[application.reference])


STEPS: tuple[Step, ...] = (
    Step("project", 1, gettext_lazy("Project"), "applications:step_project"),
    Step("resources", 2, gettext_lazy("Resources"), "applications:step_resources"),
    Step("model", 3, gettext_lazy("AI model"), "applications:step_model"),
    Step("ai_act", 4, gettext_lazy("AI Act questionnaire"), "applications:step_ai_act"),
    Step("team", 5, gettext_lazy("Team"), "applications:step_team"),
    Step("ethics", 6, gettext_lazy("Ethics issues"), "applications:step_ethics"),
    Step("attachments", 7, gettext_lazy("Attachments"), "applications:step_attachments"),
    Step("review", 8, gettext_lazy("Review and submit"), "applications:step_review"),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}


# --------------------------------------------------------------------------------- problems at their fields


def field_anchor(bound_field) -> str:
    """The id a link to the field points at: the first option of a group of radio buttons or check
    boxes (their wrapper cannot take focus), else the input itself."""
    if bound_field.widget_type in ("radioselect", "checkboxselectmultiple"):
        return f"{bound_field.auto_id}_0"
    return bound_field.id_for_label or bound_field.auto_id


def _label(form, bound_field) -> str:
    site = getattr(form, "site", None)
    if site is not None:  # two sites, two GPU-hours fields: the site says which one
        return _("%(site)s, %(field)s") % {"site": site.name, "field": bound_field.label}
    return str(bound_field.label)


def _has_value(form, name: str) -> bool:
    value = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else form[name].value()
    return value not in (None, "", 0)


def problem_target(problem, forms) -> tuple[object, str] | tuple[None, None]:
    """The form and field a submission problem belongs to, or (None, None) for a problem of the whole step.

    A problem of one site's amount goes to that site's form; a problem of a total (a mode's cap) to the
    first site that asks for that resource."""
    candidates = []
    for form in forms:
        name = problem.field
        hook = getattr(form, "field_for_problem", None)
        if hook is not None:
            name = hook(problem)
        if name not in form.fields:
            continue
        site = getattr(form, "site", None)
        if problem.site and site is not None and site.code != problem.site:
            continue
        candidates.append((form, name))
    if not candidates:
        return None, None
    for form, name in candidates:
        if getattr(form, "site", None) is None or problem.site or _has_value(form, name):
            return form, name
    return candidates[0]


def attach_problems(problems, forms) -> list[str]:
    """Show each problem of a saved step at its field (as the field's error); returns the messages that
    belong to the whole step."""
    general = []
    # Every target first: adding an error takes the field out of the form's cleaned data, which the
    # choice of the site for a total reads.
    for problem, (form, name) in [(p, problem_target(p, forms)) for p in problems]:
        if form is None:
            general.append(problem.message)
        else:
            form.add_error(name, problem.message)
    return general


def problem_links(problems, forms) -> list[dict[str, str]]:
    """The problems of a step as links to their fields, without marking the fields (a page just opened)."""
    items = []
    for problem in problems:
        form, name = problem_target(problem, forms)
        if form is None:
            items.append({"text": problem.message, "href": ""})
        else:
            bound = form[name]
            text = _("%(label)s: %(message)s") % {"label": _label(form, bound), "message": problem.message}
            items.append({"text": text, "href": f"#{field_anchor(bound)}"})
    return items


def error_summary(forms, general=()) -> list[dict[str, str]]:
    """Every error of the forms, each a link to its field, after the step's own messages (GOV.UK's error summary)."""
    items = [{"text": str(message), "href": ""} for message in general]
    for form in forms:
        items.extend({"text": str(e), "href": ""} for e in form.non_field_errors())
        for bound in form.visible_fields():
            for e in bound.errors:
                items.append({"text": _("%(label)s: %(message)s") % {"label": _label(form, bound), "message": e},
                              "href": f"#{field_anchor(bound)}"})
    return items


def step_navigation(application: Application, current: str, problems) -> list[dict]:
    """The step list: a step is complete when submission validation finds nothing wrong in it."""
    open_steps = {p.step for p in problems}
    items = []
    for step in STEPS:
        complete = step.slug != "review" and step.slug not in open_steps
        items.append({"step": step, "url": step.url(application), "current": step.slug == current,
                      "complete": complete})
    return items


def problems_by_step(application: Application, problems) -> list[dict]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.step, []).append(problem.message)
    return [{"step": step, "url": step.url(application), "messages": grouped[step.slug]}
            for step in STEPS if step.slug in grouped]


def ethics_rows(application: Application) -> list[tuple[str, dict]]:
    issues = application.ethics_issues or {}
    return [(code, {"label": label, "answer": (issues.get(code) or {}).get("answer"),
                    "text": (issues.get(code) or {}).get("text", "")})
            for code, label in EthicsIssue.choices]


# --------------------------------------------------------------------------------- statuses


def _date(value) -> str:
    return date_format(value, "DATE_FORMAT") if value else ""


def expectation(application: Application) -> dict[str, str]:
    """Who is expected to act next, and what they are expected to do."""
    status = application.status
    due = _date(application.decision_due)
    S = ApplicationStatus
    if status == S.DRAFT:
        return {"who": _("You"), "what": _("Complete every step and submit the application.")}
    if status == S.SUBMITTED:
        what = (_("Eligibility check; decision due by %(date)s.") % {"date": due} if due
                else _("Eligibility check."))
        return {"who": _("The access committee"), "what": what}
    if status == S.IN_REVIEW:
        what = _("Technical and scientific review; decision due by %(date)s.") % {"date": due} if due \
            else _("Technical and scientific review.")
        return {"who": _("The reviewers"), "what": what}
    if status == S.AWAITING_DECISION:
        what = _("Decision due by %(date)s.") % {"date": due} if due else _("Decision on the application.")
        return {"who": _("The access committee"), "what": what}
    if status == S.REVISION_REQUESTED:
        return {"who": _("You"), "what": _("Revise the application as the committee asks, then submit it again.")}
    if status == S.APPROVED:
        return {"who": _("You"), "what": _("Compute was granted: see the allocation and its usage.")}
    if status == S.REJECTED:
        return {"who": _("No one"), "what": _("The application was rejected; the reasons are on its page.")}
    return {"who": _("No one"), "what": _("The application was withdrawn.")}


def allocation_url(application: Application) -> str | None:
    """The allocation page, once the allocation views exist (they are added with the manager pages)."""
    allocation = getattr(application, "allocation", None) if application.status == ApplicationStatus.APPROVED \
        else None
    if allocation is None:
        return None
    try:
        return allocation.get_absolute_url()
    except NoReverseMatch:
        return None


def can_withdraw(application: Application) -> bool:
    return application.status in WITHDRAWABLE


# --------------------------------------------------------------------------------- audit actions

def action_text(action: str, changes: dict) -> str:
    """The timeline's sentence for an audit event: the status change spelled out, else the action's label."""
    if action == AuditAction.APPLICATION_STATUS_CHANGED:
        old, new = (changes.get("status") or [None, None])[:2]
        labels = dict(ApplicationStatus.choices)
        if old in labels and new in labels:
            return _("Status changed from %(old)s to %(new)s") % {"old": labels[old], "new": labels[new]}
        return _("Status changed")
    return str(action_label(action))
