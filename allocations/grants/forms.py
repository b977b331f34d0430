"""Forms for the applicant's side of reviews and allocations (reply, change requests)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from allocations.catalogue.filters import mode_filter, sector_filter, site_filter
from allocations.grants.models import AllocationStatus, ChangeKind, ChangeStatus, SyncState
from portal.forms import LocalDateField
from portal.listquery import ListForm, choice_filter, date_field, organisation_filter


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
    """Extra GPU-hours, CPU core-hours and, where the site offers it, storage per site of the allocation."""

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site_fields = []
        for site in sites:
            gpu, cpu, storage = f"gpu_{site.pk}", f"cpu_{site.pk}", f"storage_{site.pk}"
            self.fields[gpu] = forms.IntegerField(label=_("Extra GPU-hours on %(site)s") % {"site": site.name},
                                                  min_value=0, max_value=2**62, required=False)
            self.fields[cpu] = forms.IntegerField(label=_("Extra CPU core-hours on %(site)s") % {"site": site.name},
                                                  min_value=0, max_value=2**62, required=False)
            if site.offers_storage:
                self.fields[storage] = forms.DecimalField(
                    label=_("Extra storage on %(site)s (TB)") % {"site": site.name}, min_value=0, max_digits=8,
                    decimal_places=2, required=False)
            self.site_fields.append((site.pk, gpu, cpu, storage if site.offers_storage else None))
        self.order_fields([n for _pk, *names in self.site_fields for n in names if n] + ["justification"])

    def payload(self) -> dict:
        data = self.cleaned_data
        quotas = {}
        for pk, gpu, cpu, storage in self.site_fields:
            row = {"gpu_hours": data.get(gpu) or 0, "cpu_core_hours": data.get(cpu) or 0}
            if storage and data.get(storage):
                row["storage_tb"] = str(data[storage])
            quotas[str(pk)] = row
        return {"quotas": quotas}


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

    status = choice_filter(_("Status"), AllocationStatus.choices)
    sync_state = choice_filter(_("Provisioning"), SyncState.choices)
    site = site_filter()
    mode = mode_filter()
    sector = sector_filter()
    organisation = organisation_filter()
    date_from = date_field(_("Starting from"))
    date_to = date_field(_("Starting until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference or organisation")


class ChangeRequestFilterForm(ListForm):
    """The managers' list of change requests (/staff/change-requests/ and /api/v1/staff/change-requests/)."""

    status = choice_filter(_("Status"), ChangeStatus.choices)
    kind = choice_filter(_("Kind"), ChangeKind.choices)
    site = site_filter()
    mode = mode_filter()
    sector = sector_filter()
    organisation = organisation_filter()
    allocation = forms.CharField(label=_("Allocation"), required=False, max_length=20, widget=forms.HiddenInput)
    date_from = date_field(_("Asked from"))
    date_to = date_field(_("Asked until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference or organisation")


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


class EvidenceForm(forms.Form):
    """The PDF an ethics condition asks for (checked by content by the service, like every document)."""

    file = forms.FileField(label=_("Evidence (PDF)"),
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))


class QuarterSplitForm(forms.Form):
    """How granted hours are reserved per quarter: a GPU-hours and a CPU core-hours field per site and quarter,
    prefilled with the pro-rata split (catalogue.selectors.capacity_needs), each beside the quarter's free
    capacity. The service checks the totals and the capacity (grants.services.capacity_plan); its errors
    are keyed "split.<site code>.<quarter>.<kind>" and land beside the field they name."""

    def __init__(self, *args, needs=(), sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = sites or {}
        self.rows = []
        granted = {n.site_id for n in needs if n.gpu_hours or n.cpu_core_hours}
        self.needs = [n for n in needs if n.site_id in granted]  # a site granted storage only has no hours
        for need in self.needs:
            site = self.sites[need.site_id]
            names = (self.field_name(site.code, need.label, "gpu_hours"),
                     self.field_name(site.code, need.label, "cpu_core_hours"))
            self.fields[names[0]] = forms.IntegerField(
                label=_("GPU-hours on %(site)s in %(quarter)s") % {"site": site.name, "quarter": need.label},
                min_value=0, max_value=2**62, initial=need.gpu_hours, required=False)
            self.fields[names[1]] = forms.IntegerField(
                label=_("CPU core-hours on %(site)s in %(quarter)s") % {"site": site.name, "quarter": need.label},
                min_value=0, max_value=2**62, initial=need.cpu_core_hours, required=False)
            gpu, cpu = self[names[0]], self[names[1]]
            self.rows.append({"need": need, "site": site, "gpu": gpu, "cpu": cpu,
                              "cells": [(gpu, need.free_gpu_hours), (cpu, need.free_cpu_core_hours)]})

    @staticmethod
    def field_name(site_code: str, quarter: str, kind: str) -> str:
        return f"{site_code}-{quarter}-{'gpu' if kind == 'gpu_hours' else 'cpu'}"

    @staticmethod
    def concerns_split(exc) -> bool:
        """Whether a service's error is about the split (keyed "split" or "split.…")."""
        return hasattr(exc, "error_dict") and any(key.split(".")[0] == "split" for key in exc.error_dict)

    def field_for_service_error(self, key: str) -> str | None:
        parts = key.split(".")
        if len(parts) == 4 and parts[0] == "split":
            return self.field_name(parts[1], parts[2], parts[3])
        return None

    def split(self) -> dict[int, dict[str, dict[str, int]]] | None:
        """The hours per site and quarter as the service takes them; None when every quarter keeps its pro-rata
        share, or when the form was sent without its fields (the default rule applies, and nothing is recorded
        as set by hand). A field left empty beside others counts 0."""
        data = self.cleaned_data
        if all(data.get(name) is None for name in self.fields):
            return None
        split: dict[int, dict[str, dict[str, int]]] = {}
        changed = False
        for row in self.rows:
            need = row["need"]
            gpu, cpu = data.get(row["gpu"].name) or 0, data.get(row["cpu"].name) or 0
            changed |= (gpu, cpu) != (need.gpu_hours, need.cpu_core_hours)
            split.setdefault(need.site_id, {})[need.label] = {"gpu_hours": gpu, "cpu_core_hours": cpu}
        return split if changed else None
