from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Sector
from allocations.catalogue.filters import mode_filter, sector_filter, site_filter
from allocations.catalogue.models import AccessMode, Site
from portal.audit_actions import AuditAction
from portal.forms import LocalDateField
from portal.listquery import ListForm, choice_filter, date_field, organisation_filter

from .ai_act.risk import RiskClass
from .models import EthicsStatus

DECISIONS = [
    (EthicsStatus.CLEARED, _("Cleared")),
    (EthicsStatus.CLEARED_WITH_CONDITIONS, _("Cleared with conditions")),
    (EthicsStatus.REFUSED, _("Refused")),
]


class EthicsDecisionForm(forms.Form):
    status = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
                              help_text=_("Required when refusing. Shown to the applicant."))
    conditions = forms.CharField(
        label=_("Conditions"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text=_("One condition per line. The applicant must acknowledge each before the allocation starts."))
    evidence_conditions = forms.CharField(
        label=_("Conditions that ask for a document"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text=_("One per line, e.g. \"Share the summary of the data protection impact assessment\". The "
                    "applicant acknowledges each and uploads the document as a PDF; the allocation starts once an "
                    "ethics officer accepted it."))

    def condition_list(self, field: str = "conditions") -> list[str]:
        return [line.strip() for line in self.cleaned_data.get(field, "").splitlines() if line.strip()]


class EvidenceDecisionForm(forms.Form):
    ACCEPT, REJECT = "accept", "reject"
    decision = forms.ChoiceField(label=_("The evidence"), widget=forms.RadioSelect,
                                 choices=[(ACCEPT, _("meets the condition")), (REJECT, _("does not meet it yet"))])
    comment = forms.CharField(label=_("Comment for the applicant"), widget=forms.Textarea(attrs={"rows": 2}),
                              required=False, max_length=2000,
                              help_text=_("Required when the evidence does not meet the condition: say what is "
                                          "missing."))


class PeriodReportForm(forms.Form):
    """What a period report covers. Codes, not objects: the service validates them again."""

    date_from = LocalDateField(label=_("From"))
    date_to = LocalDateField(label=_("To (inclusive)"))
    site = forms.ChoiceField(label=_("Site"), required=False)
    access_mode = forms.ChoiceField(label=_("Access mode"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    language = forms.ChoiceField(label=_("Language of the report"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All sites"))] + list(
            Site.objects.order_by("name").values_list("code", "name"))
        self.fields["access_mode"].choices = [("", _("All access modes"))] + list(
            AccessMode.objects.order_by("order", "name").values_list("code", "name"))
        self.fields["sector"].choices = [("", _("All sectors")), *Sector.choices]
        self.fields["language"].choices = list(settings.LANGUAGES)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return cleaned


class VerifyReportForm(forms.Form):
    """The upload only: what a report can be (size, PDF) is checked by reports.services.report_verify_upload,
    which the API calls too."""

    file = forms.FileField(label=_("Report (PDF)"), help_text=_("The PDF exactly as you received it."))


class EthicsFilterForm(ListForm):
    """The ethics reviews (/staff/ethics/ and /api/v1/staff/ethics/reviews/). The page opens on the queue
    (the pending ones); "Any" shows every review."""

    status = choice_filter(_("Status"), EthicsStatus.choices)
    risk_class = choice_filter(_("AI Act class"), RiskClass.choices)
    mode = mode_filter()
    site = site_filter()
    sector = sector_filter()
    organisation = organisation_filter()
    date_from = date_field(_("Waiting since, from"))
    date_to = date_field(_("Waiting since, until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference, title or organisation")


class AuditEventFilterForm(ListForm):
    """The audit trail (/staff/audit/ and /api/v1/staff/audit-events/)."""

    action = choice_filter(_("Action"), AuditAction.choices)
    actor = forms.IntegerField(label=_("Actor"), required=False, min_value=1, max_value=10**12,
                               widget=forms.HiddenInput)
    date_from = date_field(_("From"))
    date_to = date_field(_("Until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Action, person, or reference of the object")
