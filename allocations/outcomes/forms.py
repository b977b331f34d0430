"""Forms of the final report, the outputs, the managers' review and the submission override."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from allocations.catalogue.filters import mode_filter, sector_filter, site_filter
from allocations.catalogue.models import FinalReportSection
from portal.listquery import ListForm, choice_filter, date_field, organisation_filter

from .models import OutputKind
from .services import ReportTexts

AI_ACT_CHOICES = [("yes", _("Yes, it still holds")), ("no", _("No, something changed"))]


class FinalReportForm(forms.Form):
    """The parts the access mode asks for; the others are left out of the form."""

    results = forms.CharField(label=_("Results"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=_("What the project achieved with the allocation."))
    lessons = forms.CharField(label=_("Lessons learned"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                              help_text=_("What worked, what did not, and what you would do differently."))
    compute_use = forms.CharField(
        label=_("How the compute was used"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The main jobs and runs, the share of the quota used, and why any of it was left unused."))
    ai_act_still_holds = forms.ChoiceField(
        label=_("Does the AI Act assessment of the application still hold?"), choices=AI_ACT_CHOICES,
        required=False, widget=forms.RadioSelect)
    ai_act_explanation = forms.CharField(
        label=_("What changed since the AI Act assessment"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only when the assessment no longer holds: the purpose, the users or the model changed."))

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        keep = set()
        for section in sections:
            keep.update({FinalReportSection.RESULTS: ["results"], FinalReportSection.LESSONS: ["lessons"],
                         FinalReportSection.COMPUTE_USE: ["compute_use"],
                         FinalReportSection.AI_ACT: ["ai_act_still_holds", "ai_act_explanation"]}.get(section, []))
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    @staticmethod
    def initial_from(report) -> dict:
        holds = {True: "yes", False: "no"}.get(report.ai_act_still_holds, "")
        return {"results": report.results, "lessons": report.lessons, "compute_use": report.compute_use,
                "ai_act_still_holds": holds, "ai_act_explanation": report.ai_act_explanation}

    def texts(self) -> ReportTexts:
        data = self.cleaned_data
        return ReportTexts(results=data.get("results", ""), lessons=data.get("lessons", ""),
                           compute_use=data.get("compute_use", ""),
                           ai_act_still_holds={"yes": True, "no": False}.get(data.get("ai_act_still_holds") or ""),
                           ai_act_explanation=data.get("ai_act_explanation", ""))


class OutputForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Choose...")), *OutputKind.choices], required=False)
    title = forms.CharField(label=_("Title"), required=False, max_length=300)
    doi = forms.CharField(label=_("DOI"), required=False, max_length=300,
                          help_text=_("Needed for a publication, e.g. 10.1234/abc-123 or "
                                      "https://doi.org/10.1234/abc-123; optional for the other kinds."))
    link = forms.CharField(label=_("Link"), required=False, max_length=500,
                           help_text=_("Where the output can be found, starting with https://. For a publication, "
                                       "left empty: the DOI's address."))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, required=False,
                                 choices=[("accept", _("Accept the report")),
                                          ("more", _("Ask for more (the report goes back to the organisation)"))])
    comment = forms.CharField(label=_("Comment for the organisation"), required=False,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("Required when you ask for more: say what the report is missing."))

    def clean_decision(self):
        value = self.cleaned_data.get("decision")
        if value not in ("accept", "more"):
            raise forms.ValidationError(_("Choose whether to accept the report or to ask for more."))
        return value


class OverrideForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the exception"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Kept in the audit trail. The exception lets the organisation submit one "
                                         "application despite its overdue final report."))


STATE_CHOICES = [("due", pgettext_lazy("final report", "Due")), ("overdue", _("Overdue")),
                 ("submitted", _("Submitted, to review")), ("accepted", pgettext_lazy("final report", "Accepted"))]


class FinalReportFilterForm(ListForm):
    """The managers' list of final reports (/staff/final-reports/)."""

    state = choice_filter(_("State"), STATE_CHOICES)
    site = site_filter()
    mode = mode_filter()
    sector = sector_filter()
    organisation = organisation_filter()
    date_from = date_field(_("Due from"))
    date_to = date_field(_("Due until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference or organisation")
