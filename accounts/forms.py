from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MembershipRole, NotificationDelivery, Organisation, Sector, portal_languages


class SignupForm(forms.Form):
    """What sign-up asks besides the e-mail address and password (allauth's ACCOUNT_SIGNUP_FORM_CLASS): the
    person's name, shown instead of their address wherever people are listed. AccountAdapter.save_user stores it."""

    full_name = forms.CharField(label=_("Full name"), max_length=150,
                                help_text=_("As your colleagues and the AI Factory's staff will see it."),
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))

    field_order = ["full_name", "email", "password1", "password2"]

    def signup(self, request, user) -> None:
        """allauth calls this after saving the user; the name is already stored by the adapter."""


class OrganisationForm(forms.ModelForm):
    sectors = forms.MultipleChoiceField(
        label=_("Sectors"), choices=Sector.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    vat_number = forms.CharField(
        label=_("VAT or enterprise number"), max_length=20,
        help_text=_("Belgian organisations: the 10-digit enterprise number (e.g. 0403.170.701). "
                    "Others: the EU VAT number."),
    )

    class Meta:
        model = Organisation
        fields = ["legal_name", "country", "org_type", "vat_number", "headcount", "annual_turnover",
                  "balance_sheet_total", "sectors"]
        help_texts = {
            "headcount": _("Annual work units, including staff of linked enterprises."),
            "annual_turnover": _("Last approved accounting period, in euro."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["headcount"].widget.attrs["min"] = 0
        # The browser may fill the organisation's name and country (WCAG 1.3.5, identify input purpose).
        self.fields["legal_name"].widget.attrs["autocomplete"] = "organization"
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        for name in ("annual_turnover", "balance_sheet_total"):
            self.fields[name].widget.attrs["min"] = 0

    def validate_unique(self):
        """Uniqueness of the normalised number is checked by the service, with a clearer message."""


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices, initial=MembershipRole.MEMBER)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices)


class SshKeyForm(forms.Form):
    key = forms.CharField(
        label=_("Public key"), max_length=9000, strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("One line starting with ssh-ed25519, ssh-rsa or ecdsa-sha2-…, as in the file ending in .pub "
                    "(for example ~/.ssh/id_ed25519.pub). Never paste a private key."))


class ApiTokenForm(forms.Form):
    ACCESS = [("read", _("Read only")), ("read_write", _("Read and write"))]
    EXPIRY = [("", _("Never")), ("30", _("In 30 days")), ("90", _("In 90 days")), ("365", _("In a year"))]

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("The program or machine that will use it, e.g. \"CI pipeline\"."))
    access = forms.ChoiceField(label=_("Access"), choices=ACCESS, initial="read", widget=forms.RadioSelect)
    expires = forms.ChoiceField(label=_("Expires"), choices=EXPIRY, required=False, initial="90")

    def scopes(self) -> list[str]:
        return ["read", "write"] if self.cleaned_data["access"] == "read_write" else ["read"]

    def expires_at(self):
        from datetime import timedelta

        from django.utils import timezone

        days = self.cleaned_data.get("expires")
        return timezone.now() + timedelta(days=int(days)) if days else None


class EraseAccountForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type ERASE to confirm"), max_length=10,
        help_text=_("Your name and e-mail address are removed everywhere. This cannot be undone."),
    )

    def clean_confirm(self):
        value = self.cleaned_data["confirm"]
        if value.strip() != "ERASE":
            raise forms.ValidationError(_("Type ERASE in capital letters to confirm."))
        return value


class NotificationPreferenceForm(forms.Form):
    delivery = forms.ChoiceField(label=_("E-mails about your notifications"), choices=NotificationDelivery.choices,
                                 widget=forms.RadioSelect)
    language = forms.ChoiceField(label=_("Your language"), choices=portal_languages,
                                 help_text=_("Every e-mail the portal sends you is written in this language, "
                                             "whoever's action sent it."))
