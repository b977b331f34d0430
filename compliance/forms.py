from django import forms
from django.utils.translation import gettext_lazy as _

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

    def condition_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("conditions", "").splitlines() if line.strip()]
