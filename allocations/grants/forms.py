"""Forms for the applicant's side of reviews and allocations (reply, change requests)."""

from __future__ import annotations

import functools

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Sector
from allocations.catalogue.models import AccessMode, Site
from allocations.grants.models import AllocationStatus, SyncState
from portal.forms import LocalDateField, with_any
from portal.listquery import ListForm, date_field


class ChangeRequestForm(forms.Form):
    justification = forms.CharField(label=_("Justification"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def payload(self) -> dict:
        raise NotImplementedError


class ExtensionForm(ChangeRequestForm):
    end_date = LocalDateField(label=_("New end date"), required=False)

    field_order = ["end_date", "justification"]

    def payload(self) -> dict:
        end = self.cleaned_data.get("end_date")
        return {"end_date": end.isoformat() if end else ""}


class TopUpForm(ChangeRequestForm):
    """Extra GPU-hours and CPU core-hours per site of the allocation."""

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site_fields = []
        for site in sites:
            gpu, cpu = f"gpu_{site.pk}", f"cpu_{site.pk}"
            self.fields[gpu] = forms.IntegerField(label=_("Extra GPU-hours on %(site)s") % {"site": site.name},
                                                  min_value=0, required=False)
            self.fields[cpu] = forms.IntegerField(label=_("Extra CPU core-hours on %(site)s") % {"site": site.name},
                                                  min_value=0, required=False)
            self.site_fields.append((site.pk, gpu, cpu))
        self.order_fields([n for _pk, gpu, cpu in self.site_fields for n in (gpu, cpu)] + ["justification"])

    def payload(self) -> dict:
        data = self.cleaned_data
        return {"quotas": {str(pk): {"gpu_hours": data.get(gpu) or 0, "cpu_core_hours": data.get(cpu) or 0}
                           for pk, gpu, cpu in self.site_fields}}


class AddMembersForm(ChangeRequestForm):
    ROWS = 3
    ROW_FIELDS = {"full_name": "name", "email": "email", "cluster_username": "username"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rows: list[int] = []  # the form row of each member of the payload
        names = []
        for i in range(1, self.ROWS + 1):
            self.fields[f"name_{i}"] = forms.CharField(label=_("Person %(n)s: full name") % {"n": i}, required=False)
            self.fields[f"email_{i}"] = forms.EmailField(label=_("Person %(n)s: e-mail address") % {"n": i},
                                                         required=False)
            self.fields[f"username_{i}"] = forms.CharField(label=_("Person %(n)s: cluster username") % {"n": i},
                                                           required=False, max_length=32)
            names += [f"name_{i}", f"email_{i}", f"username_{i}"]
        self.order_fields(names + ["justification"])

    def field_for_service_error(self, name: str) -> str | None:
        """The service names a person's field by position ("members.0.cluster_username"): the
        message goes next to that person's row."""
        if not name.startswith("members."):
            return name
        _members, index, field = name.split(".", 2)
        if not index.isdigit() or int(index) >= len(self._rows):
            return None
        return f"{self.ROW_FIELDS.get(field, '')}_{self._rows[int(index)]}"

    def payload(self) -> dict:
        data = self.cleaned_data
        self._rows = []
        members = []
        for i in range(1, self.ROWS + 1):
            row = {"full_name": data.get(f"name_{i}", ""), "email": data.get(f"email_{i}", ""),
                   "cluster_username": data.get(f"username_{i}", "")}
            if any(v for v in row.values()):
                members.append(row)
                self._rows.append(i)
        return {"members": members}


CHANGE_FORMS = {"extension": ExtensionForm, "top_up": TopUpForm, "add_members": AddMembersForm}


class AllocationFilterForm(ListForm):
    """The managers' list of allocations (/staff/allocations/ and /api/v1/staff/allocations/)."""

    status = forms.ChoiceField(label=_("Status"), required=False, choices=with_any(AllocationStatus.choices))
    sync_state = forms.ChoiceField(label=_("Provisioning"), required=False, choices=with_any(SyncState.choices))
    site = forms.ChoiceField(label=_("Site"), required=False)
    mode = forms.ChoiceField(label=_("Access mode"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False, choices=with_any(Sector.choices))
    organisation = forms.IntegerField(label=_("Organisation"), required=False, min_value=1, max_value=10**12,
                                      widget=forms.HiddenInput)
    date_from = date_field(_("Starting from"))
    date_to = date_field(_("Starting until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference or organisation")
        self.fields["site"].choices = functools.cache(_site_choices)
        self.fields["mode"].choices = functools.cache(_mode_choices)  # once per form


class AllocationActionForm(forms.Form):
    ACTIONS = [("suspend", _("Suspend")), ("resume", _("Resume")), ("revoke", _("Revoke"))]

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required to suspend or revoke; the organisation is told."))

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            self.fields["action"].choices = [(v, label) for v, label in self.ACTIONS if v in allowed]


class ChangeDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                 choices=[("approve", _("Approve the change")), ("reject", _("Reject it"))])
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, top_up: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if top_up:  # a top-up of a de minimis grant may go above the ceiling where the mode warns (allocations.aid)
            self.fields["aid_confirmed"] = forms.BooleanField(
                label=_("Record the top-up even if it takes the single undertaking above the de minimis ceiling "
                        "(access modes that warn)"), required=False)

# Read when the menu is drawn or a value is checked, not when the form is built: the API builds it on every
# list request and mostly without these filters.
def _mode_choices():
    return with_any(list(AccessMode.objects.values_list("code", "name")))


def _site_choices():
    return with_any(list(Site.objects.values_list("code", "name")))

class EvidenceForm(forms.Form):
    """The PDF an ethics condition asks for (checked by content by the service, like every document)."""

    file = forms.FileField(label=_("Evidence (PDF)"),
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))
