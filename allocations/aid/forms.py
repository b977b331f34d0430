"""Forms of the aid pages. They collect input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from allocations.aid.choices import LegalBasis
from allocations.aid.models import LinkRelation
from portal.forms import LocalDateField

DECLARED_ROWS = 5


class LinkForm(forms.Form):
    relation = forms.ChoiceField(label=_("Relation"), choices=LinkRelation.choices)
    vat_number = forms.CharField(label=_("VAT or enterprise number"), max_length=30, required=False,
                                 help_text=_("An organisation of the portal is found by this number; for another "
                                             "enterprise, give it if known."))
    name = forms.CharField(label=_("Enterprise name"), max_length=200, required=False,
                           help_text=_("For an enterprise outside the portal."))
    country = forms.CharField(label=_("Country (two letters)"), max_length=2, required=False,
                              help_text=_("For an enterprise outside the portal, e.g. BE, LU, US."))

    def linked_organisation(self) -> Organisation | None:
        vat = (self.cleaned_data.get("vat_number") or "").strip()
        if not vat:
            return None
        return Organisation.objects.filter(vat_number__iexact=vat, erased=False).first()


class DeclarationForm(forms.Form):
    """Up to five aids received elsewhere; none filled in declares that none was received."""

    confirm = forms.BooleanField(
        label=_("I declare, on behalf of the organisation, that the aid listed here is all the de minimis aid the "
                "single undertaking (the organisation and the enterprises linked to it above) received from any "
                "source in the last three years, apart from the aid this AI Factory granted."), required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for i in range(DECLARED_ROWS):
            names = (f"amount_{i}", f"granted_on_{i}", f"authority_{i}", f"received_by_{i}")
            self.fields[names[0]] = forms.DecimalField(label=_("Amount (EUR)"), required=False, min_value=0,
                                                       decimal_places=2, max_digits=14)
            self.fields[names[1]] = LocalDateField(label=_("Date of grant"), required=False)
            self.fields[names[2]] = forms.CharField(label=_("Granting authority"), required=False, max_length=200)
            self.fields[names[3]] = forms.CharField(label=_("Received by (if not the organisation)"),
                                                    required=False, max_length=200)
            self.rows.append(names)
        self.order_fields([n for names in self.rows for n in names] + ["confirm"])

    def row_fields(self) -> list[list]:
        """The bound fields of each row, for the page to show a row per aid."""
        return [[self[name] for name in names] for names in self.rows]

    def aids(self) -> list[dict]:
        data = self.cleaned_data
        return [{"amount": data.get(a), "granted_on": data.get(d), "granting_authority": data.get(g),
                 "received_by": data.get(r)} for a, d, g, r in self.rows
                if data.get(a) is not None or data.get(d) or data.get(g)]

    def field_for_service_error(self, name: str) -> str | None:
        """The service names a row's field "aids.<i>.<field>"."""
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "aids":
            field = {"amount": "amount", "granted_on": "granted_on", "granting_authority": "authority",
                     "received_by": "received_by"}.get(parts[2])
            return f"{field}_{parts[1]}" if field else None
        return name


class CorrectionForm(forms.Form):
    amount = forms.DecimalField(label=_("Correction (EUR)"), decimal_places=2, max_digits=14,
                                help_text=_("Negative to take value away, e.g. -1250.00."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RegisterForm(forms.Form):
    start = LocalDateField(label=_("From (date of grant)"))
    end = LocalDateField(label=_("To (inclusive)"))
    basis = forms.ChoiceField(label=_("Legal basis"), required=False,
                              choices=[("", _("Every basis"))] + list(LegalBasis.choices))
    fmt = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("json", "JSON")], initial="csv")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end of the period comes before its start."))
        return data
