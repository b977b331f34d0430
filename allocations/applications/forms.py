"""Forms of the applicant journey. They parse and shape input; the rules are in services/."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from allocations.applications.models import (
    Application,
    ApplicationStatus,
    AttachmentKind,
    EthicsIssue,
)
from allocations.applications.services import MODEL_FIELDS, NEEDED_TO_SUBMIT, PROJECT_FIELDS
from allocations.catalogue.models import AccessMode, Site
from allocations.catalogue.presentation import mode_summary
from allocations.catalogue.usernames import cluster_username_validator, reserved_username_validator
from compliance.ai_act.engine import Question, QuestionType
from portal.forms import LocalDateField
from portal.limits import MAX_BIGINT, MAX_INT

YES_NO = [(True, _("Yes")), (False, _("No"))]


def yes_no_field(label, help_text="") -> forms.NullBooleanField:
    """A yes/no question as two radio buttons; unanswered stays None (allowed in a draft)."""
    return forms.NullBooleanField(label=label, help_text=help_text, required=False,
                                  widget=forms.RadioSelect(choices=YES_NO))


def display_value(field: forms.Field, value: Any) -> str:
    if value in (None, "", [], ()):
        return "—"
    if isinstance(field, forms.NullBooleanField):
        return str(_("Yes") if value else _("No"))
    if isinstance(field, forms.ModelChoiceField) or not isinstance(value, str | int | list | tuple):
        return str(value)
    choices = getattr(field, "choices", None)
    if choices:
        labels = {str(k): v for k, v in choices}
        if isinstance(value, list | tuple):
            return ", ".join(str(labels.get(str(v), v)) for v in value)
        return str(labels.get(str(value), value))
    return str(value)


def mark_needed_to_submit(form: forms.Form) -> None:
    """Flag the fields an application needs before submission (the templates mark them with a star)."""
    for name, field in form.fields.items():
        field.needed_to_submit = name in NEEDED_TO_SUBMIT


class StepModelForm(forms.ModelForm):
    """A ModelForm that never writes: the cleaned data goes to a service.

    The instance is copied so that validation cannot alter the object the view renders from."""

    def __init__(self, *args, instance: Application, **kwargs):
        self.application = instance
        super().__init__(*args, instance=copy.copy(instance), **kwargs)
        mark_needed_to_submit(self)

    def readonly_items(self) -> list[tuple[str, str]]:
        """The saved values, for the read-only view of a submitted application."""
        items = []
        for name, field in self.fields.items():
            value = getattr(self.application, name)
            display = getattr(self.application, f"get_{name}_display", None)
            if display is not None and value not in (None, ""):
                value = display()
            items.append((field.label, display_value(field, value)))
        return items

    def save(self, commit=True):  # pragma: no cover - guard against misuse
        raise NotImplementedError("Step forms are saved through allocations.applications.services")


class ApplicationCreateForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None,
                                          help_text=_("The organisation on whose behalf you apply."))
    title = forms.CharField(label=_("Project title"), max_length=200)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class ProjectForm(StepModelForm):
    civilian_purpose = yes_no_field(_("Does the project have an exclusively civilian purpose?"))
    dual_use = yes_no_field(_("Could the results have a dual (civil and military) use?"))

    class Meta:
        model = Application
        fields = PROJECT_FIELDS
        labels = {
            "title": _("Project title"), "abstract": _("Abstract"), "public_summary": _("Public summary"),
            "sector": _("Sector"), "dual_use_explanation": _("Explain the possible dual use"),
            "rd_type": _("Type of R&D"),
        }
        help_texts = {
            "abstract": _("What you will do with the compute, for the reviewers."),
            "dual_use_explanation": _("Needed when you answer yes to the dual-use question."),
            "rd_type": _("Product R&D: the AI Act questionnaire (step 4) asks for the intended route to market."),
        }
        widgets = {
            "abstract": forms.Textarea(attrs={"rows": 6}),
            "public_summary": forms.Textarea(attrs={"rows": 3}),
            "dual_use_explanation": forms.Textarea(attrs={"rows": 3, "data-show-when": "dual_use=True"}),
            "rd_type": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rd_type"].choices = [c for c in self.fields["rd_type"].choices if c[0]]
        self.fields["rd_type"].required = False


class AccessModeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AccessMode) -> str:
        return f"{obj.name}: {mode_summary(obj)}"


class CallChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _("%(title)s (%(mode)s, cut-off %(cutoff)s)") % {
            "title": obj.title, "mode": obj.access_mode.name,
            "cutoff": date_format(timezone.localtime(obj.cutoff_at), "DATETIME_FORMAT")}


class ResourcesForm(StepModelForm):
    access_mode = AccessModeChoiceField(label=_("Access mode"), queryset=None, required=False,
                                        widget=forms.RadioSelect, empty_label=None)
    call = CallChoiceField(label=_("Call"), queryset=None, required=False,
                                  empty_label=_("No call"),
                                  help_text=_("Modes with a cut-off (Large Scale) are applied for through a call."))
    duration_months = forms.TypedChoiceField(label=_("Duration (months)"), coerce=int, required=False,
                                             empty_value=None)

    class Meta:
        model = Application
        fields = ["access_mode", "call", "start_date", "duration_months"]
        labels = {"start_date": _("Start date")}
        help_texts = {"start_date": _("The first day you need the compute.")}
        field_classes = {"start_date": LocalDateField}

    def __init__(self, *args, modes, calls, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["access_mode"].queryset = modes
        self.fields["call"].queryset = calls
        durations = sorted({int(d) for mode in modes for d in (mode.allowed_durations or [])})
        self.fields["duration_months"].choices = [("", _("Choose"))] + [(d, str(d)) for d in durations]
        self.fields["duration_months"].help_text = _(
            "Each access mode allows some durations only: they are listed with the mode above.")


def _at_most(limit: int) -> dict[str, Any]:
    """The message for a number above what its column holds, the limit written in the reader's language
    (formatted when shown: Django formats the messages it overrides with its own parameters)."""
    message = _("Enter at most %(max)s: a larger amount cannot be recorded.")
    return {"max_value": lazy(lambda: str(message) % {"max": intcomma(limit)}, str)()}


class SiteResourceForm(forms.Form):
    """The request on one site; inputs only for what the site offers."""

    gpu_hours = forms.IntegerField(label=_("GPU-hours"), required=False, min_value=0, max_value=MAX_INT,
                                   error_messages=_at_most(MAX_INT))
    cpu_core_hours = forms.IntegerField(label=_("CPU core-hours"), required=False, min_value=0, max_value=MAX_INT,
                                        error_messages=_at_most(MAX_INT))
    storage_tb = forms.DecimalField(label=_("Storage (TB)"), required=False, min_value=0, max_digits=8,
                                    decimal_places=2)

    def __init__(self, *args, site: Site, **kwargs):
        kwargs.setdefault("prefix", f"site-{site.code}")
        super().__init__(*args, **kwargs)
        self.site = site
        offered = {"gpu_hours": site.offers_gpu_hours, "cpu_core_hours": site.offers_cpu_hours,
                   "storage_tb": site.offers_storage}
        for name, is_offered in offered.items():
            if not is_offered:
                del self.fields[name]

    def row(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) or 0 for name in self.fields}
        return {"site": self.site, **data}


class AIModelForm(StepModelForm):
    parameter_count = forms.IntegerField(label=_("Parameters"), required=False, min_value=1, max_value=MAX_BIGINT,
                                         error_messages=_at_most(MAX_BIGINT),
                                         help_text=_("For example 7000000000 for a 7B model."))
    training_tokens = forms.IntegerField(label=_("Training tokens"), required=False, min_value=1,
                                         max_value=MAX_BIGINT, error_messages=_at_most(MAX_BIGINT))
    base_model_flop = forms.FloatField(
        label=_("Base model's reported training compute (FLOP)"), required=False,
        validators=[MinValueValidator(0)],
        help_text=_("When fine-tuning: the compute its provider reports, e.g. 3.8e24."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "data-show-when": "model_activity=fine_tune"}))

    class Meta:
        model = Application
        fields = MODEL_FIELDS
        labels = {"model_activity": _("AI work"), "model_family": _("Model family or architecture"),
                  "base_model_name": _("Base model"), "model_lineage": _("Model lineage")}
        help_texts = {"base_model_name": _("The model you fine-tune or adapt, e.g. Mistral-7B-v0.3.")}
        widgets = {"model_activity": forms.RadioSelect,
                   "base_model_name": forms.TextInput(attrs={"data-show-when": "model_activity=fine_tune"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_activity"].choices = [c for c in self.fields["model_activity"].choices if c[0]]
        self.fields["model_activity"].required = False


class TeamMemberForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    cluster_username = forms.CharField(
        label=_("Cluster username"), max_length=32,
        validators=[cluster_username_validator, reserved_username_validator],
        help_text=_("1-32 characters: lowercase letters, digits, '-' and '_', starting with a letter or '_'. "
                    "System names such as root or slurm are refused, and each site may have its own rule."),
        widget=forms.TextInput(attrs={"pattern": "[a-z_][a-z0-9_\\-]{0,31}", "autocapitalize": "none",
                                      "spellcheck": "false"}))


class EthicsIssuesForm(forms.Form):
    """The Horizon Europe ethics issues table: a yes/no per issue and a text for every yes."""

    def __init__(self, *args, issues: Mapping[str, dict] | None = None, **kwargs):
        issues = issues or {}
        initial = {}
        for code in EthicsIssue.values:
            entry = issues.get(code) or {}
            initial[code] = entry.get("answer")
            initial[f"{code}_text"] = entry.get("text", "")
        super().__init__(*args, initial=initial, **kwargs)
        for code, label in EthicsIssue.choices:
            self.fields[code] = yes_no_field(label)
            self.fields[f"{code}_text"] = forms.CharField(
                label=_("How you handle it: %(issue)s") % {"issue": label}, required=False,
                widget=forms.Textarea(attrs={"rows": 2}))

    def rows(self):
        return [{"code": code, "label": label, "answer": self[code], "text": self[f"{code}_text"]}
                for code, label in EthicsIssue.choices]

    def field_for_problem(self, problem) -> str:
        """A problem of an issue answered yes is about its text (how it is handled); else about the answer."""
        if problem.field not in EthicsIssue.values:
            return problem.field
        answers = self.cleaned_data if hasattr(self, "cleaned_data") else self.initial
        return f"{problem.field}_text" if answers.get(problem.field) else problem.field

    def issues(self) -> dict[str, dict]:
        return {code: {"answer": self.cleaned_data.get(code), "text": self.cleaned_data.get(f"{code}_text", "")}
                for code in EthicsIssue.values}


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("PDF file"), widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
                           help_text=_("PDF only, at most 20 MB."))


class SubmitForm(forms.Form):
    """The declaration of honour that goes with a submission: the box, and the version of the text shown."""

    declaration_version = forms.CharField(widget=forms.HiddenInput, required=False)
    declaration = forms.BooleanField(
        label=_("I make this declaration of honour"),
        error_messages={"required": _("Tick the box to make the declaration of honour: an application cannot be "
                                      "submitted without it.")})

    def field_for_service_error(self, name: str) -> str:
        return "declaration" if name == "declaration_version" else name


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ListFilterForm(forms.Form):
    q = forms.CharField(label=_("Reference or title"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False)
    access_mode = forms.ModelChoiceField(label=_("Access mode"), queryset=AccessMode.objects.none(),
                                         required=False, empty_label=pgettext_lazy("list filter", "Any"))
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, required=False,
                                          empty_label=pgettext_lazy("list filter", "Any"))

    def __init__(self, *args, modes, organisations, oversight: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", pgettext_lazy("list filter", "Any"))] + list(ApplicationStatus.choices)
        self.fields["access_mode"].queryset = modes
        self.fields["organisation"].queryset = organisations
        if oversight:
            # A menu of every organisation (10,000 at scale) costs a second per page: staff search by
            # name instead, and a link that names an organisation by id still filters.
            self.fields["organisation"].widget = forms.HiddenInput()
            self.fields["q"].label = _("Reference, title or organisation")


# --------------------------------------------------------------------------------- AI Act


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping | MappingProxyType):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    return value


class AIActForm(forms.Form):
    """One field per question of the rule set, labelled in the user's language.

    Every question is a field, so that answers to questions shown by the progressive-enhancement
    script are parsed too; the engine drops answers to questions that are not visible."""

    def __init__(self, *args, questions: tuple[Question, ...], language: str, answers: Mapping[str, Any],
                 **kwargs):
        super().__init__(*args, initial=dict(answers), **kwargs)
        self.questions = questions
        self.language = language
        for q in questions:
            choices = [(o.value, o.label[language]) for o in q.options]
            common = {"label": q.text[language], "help_text": q.help[language], "required": False}
            if q.type == QuestionType.MULTI_CHOICE:
                self.fields[q.id] = forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple,
                                                              **common)
            else:
                self.fields[q.id] = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)

    def answers(self) -> dict[str, Any]:
        return {qid: value for qid, value in self.cleaned_data.items() if value not in (None, "", [])}

    def current_answers(self) -> dict[str, Any]:
        """The answers to show visibility for: the posted ones when bound, else the saved ones."""
        if not self.is_bound:
            return dict(self.initial)
        raw = {}
        for q in self.questions:
            if q.type == QuestionType.MULTI_CHOICE:
                value = self.data.getlist(q.id) if hasattr(self.data, "getlist") else self.data.get(q.id)
            else:
                value = self.data.get(q.id)
            if value:
                raw[q.id] = value
        return raw

    def items(self, visible_ids: set[str]) -> list[dict]:
        return [{"question": q, "field": self[q.id], "visible": q.id in visible_ids,
                 "show_if": json.dumps(_thaw(q.show_if)) if q.show_if is not None else "",
                 "exclusive": [o.value for o in q.options if o.exclusive]}
                for q in self.questions]
