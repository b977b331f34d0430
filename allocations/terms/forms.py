"""The operator's form to publish a version of the terms of use (the service checks every rule)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from allocations.catalogue.models import Site
from portal.forms import LocalDateField


class TermsPublishForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Terms of use of"), queryset=Site.objects.none(), required=False,
                                  empty_label=_("The platform (every team member)"))
    effective_date = LocalDateField(label=_("Effective date"), required=False,
                                       help_text=_("From this day the version is in force. People who never "
                                                 "accepted these terms are held out of the clusters from then."))
    grace_days = forms.IntegerField(label=_("Grace period (days)"), required=False, initial=30, min_value=0,
                                    help_text=_("People who accepted an earlier version keep their access this "
                                                "many days after the effective date."))
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    text_en = forms.CharField(label=_("Text in English"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    title_fr = forms.CharField(label=_("Title in French"), max_length=200, required=False)
    text_fr = forms.CharField(label=_("Text in French"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    title_nl = forms.CharField(label=_("Title in Dutch"), max_length=200, required=False)
    text_nl = forms.CharField(label=_("Text in Dutch"), required=False, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(is_active=True).order_by("name")
