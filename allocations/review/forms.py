"""Forms for the staff pages. They collect input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from allocations.applications.models import ApplicationStatus
from allocations.catalogue.filters import mode_filter, sector_filter, site_filter
from allocations.review.models import AssignmentStatus, ReviewKind
from allocations.review.presentation import criterion_label, levels
from portal.forms import apply_validation_error
from portal.listquery import ListForm, choice_filter, date_field, organisation_filter


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Your reply to the reviews"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("The committee reads it before deciding. You can reply once."))


class OverviewFilterForm(ListForm):
    """The committee's list of applications (/staff/applications/ and /api/v1/staff/applications/)."""

    status = choice_filter(_("Status"), [(v, label) for v, label in ApplicationStatus.choices
                                         if v != ApplicationStatus.DRAFT])
    mode = mode_filter()
    site = site_filter()
    sector = sector_filter()
    organisation = organisation_filter()
    date_from = date_field(_("Submitted from"))
    date_to = date_field(_("Submitted until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference, title or organisation")


class AssignmentFilterForm(ListForm):
    """A reviewer's own assignments (/staff/reviews/ and /api/v1/staff/reviews/). The search reads the
    title only of the applications whose content the reviewer may read (no conflict declared)."""

    status = choice_filter(_("Status"), [(v, label) for v, label in AssignmentStatus.choices
                                         if v != AssignmentStatus.CANCELLED])
    kind = choice_filter(_("Kind"), ReviewKind.choices)
    mode = mode_filter()
    site = site_filter()
    sector = sector_filter()
    organisation = organisation_filter()
    date_from = date_field(_("Due from"))
    date_to = date_field(_("Due until"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("Reference, title or organisation")


class EligibilityForm(forms.Form):
    eligible = forms.ChoiceField(label=_("Is the application eligible?"), widget=forms.RadioSelect,
                                 choices=[("yes", _("Eligible: send it to review")),
                                          ("no", _("Not eligible: reject it"))])
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required when the application is not eligible; the applicant sees it."))


class AssignForm(forms.Form):
    """Offers the assignable candidates only: no likely conflict (a conflict declared on this application
    included), not assigned already, and below the limit of open reviews. Any other id is left to the
    service, whose error says why that person cannot be assigned."""

    reviewer = forms.IntegerField(label=_("Reviewer"), min_value=1, widget=forms.Select)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].widget.choices = [("", _("Choose a reviewer"))] + [
            (c.reviewer.pk, ngettext("%(name)s (%(n)s open review)", "%(name)s (%(n)s open reviews)", c.load)
             % {"name": c.reviewer.display_name, "n": c.load})
            for c in candidates if c.assignable]


class ApproveForm(forms.Form):
    """One row of quota fields per requested site, prefilled with the request (may be lowered)."""

    reasons = forms.CharField(label=_("Reasons (recorded with the decision)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, resources=(), confirm_above_ceiling: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_rows = []
        self.sites = {}
        for r in resources:
            names = (f"gpu_{r.site_id}", f"cpu_{r.site_id}", f"storage_{r.site_id}")
            above = _("More than requested: a quota may be lowered, never raised.")
            self.fields[names[0]] = forms.IntegerField(
                label=_("GPU-hours on %(site)s") % {"site": r.site.name}, min_value=0, max_value=r.gpu_hours,
                initial=r.gpu_hours, help_text=_("Requested: %(n)s") % {"n": number_format(r.gpu_hours)},
                error_messages={"max_value": above})
            self.fields[names[1]] = forms.IntegerField(
                label=_("CPU core-hours on %(site)s") % {"site": r.site.name}, min_value=0,
                max_value=r.cpu_core_hours, initial=r.cpu_core_hours, error_messages={"max_value": above},
                help_text=_("Requested: %(n)s") % {"n": number_format(r.cpu_core_hours)})
            self.fields[names[2]] = forms.DecimalField(
                label=_("Storage (TB) on %(site)s") % {"site": r.site.name}, min_value=0, decimal_places=2,
                max_value=r.storage_tb, initial=r.storage_tb, error_messages={"max_value": above},
                help_text=_("Requested: %(n)s") % {"n": number_format(r.storage_tb)},
                widget=forms.NumberInput(attrs={"step": "0.01"}))
            self.sites[r.site_id] = r.site
            self.site_rows.append((r.site_id, names))
        if confirm_above_ceiling:  # a de minimis mode that warns instead of refusing (allocations.aid)
            self.fields["aid_confirmed"] = forms.BooleanField(
                label=_("Record the grant even if it takes the single undertaking above the de minimis ceiling"),
                required=False)
        # Reasons last, after the quota fields.
        self.order_fields([n for _site, names in self.site_rows for n in names] + ["reasons", "aid_confirmed"])

    def quotas(self) -> dict[int, dict]:
        data = self.cleaned_data
        return {site_id: {"gpu_hours": data.get(names[0]) or 0, "cpu_core_hours": data.get(names[1]) or 0,
                          "storage_tb": data.get(names[2]) or 0} for site_id, names in self.site_rows}

    def summary(self) -> list[dict]:
        """The quotas per site as the confirmation shows them, sites with nothing granted left out."""
        return [{"site": self.sites[site_id], **q} for site_id, q in self.quotas().items()
                if q["gpu_hours"] or q["cpu_core_hours"] or q["storage_tb"]]


class RejectForm(forms.Form):
    reasons = forms.CharField(label=_("Reasons for the rejection"), required=False,
                              widget=forms.Textarea(attrs={"rows": 4}), help_text=_("The applicant sees them."))


class RevisionForm(forms.Form):
    comments = forms.CharField(label=_("What should the applicant revise?"), required=False,
                               widget=forms.Textarea(attrs={"rows": 4}), help_text=_("The applicant sees them."))


class DeclarationForm(forms.Form):
    has_conflict = forms.ChoiceField(
        label=_("Do you have a conflict of interest with this organisation or its people?"),
        widget=forms.RadioSelect, choices=[("no", _("No, I have no conflict of interest")),
                                           ("yes", _("Yes, I have a conflict of interest"))])
    statement = forms.CharField(label=_("Describe the conflict"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("Only when you declare a conflict. The application is then reassigned."))


class ReviewForm(forms.Form):
    """One radio group per rubric criterion (1..scale), then the recommendation and comments."""

    recommendation = forms.ChoiceField(label=_("Recommendation"), widget=forms.RadioSelect, required=False,
                                       choices=[("approve", _("Approve")), ("revise", _("Ask for a revision")),
                                                ("reject", _("Reject"))])
    comments_for_committee = forms.CharField(label=_("Comments for the committee"), required=False,
                                             widget=forms.Textarea(attrs={"rows": 4}))
    comments_for_applicant = forms.CharField(
        label=_("Comments for the applicant"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to the applicant without your name."))

    def __init__(self, *args, rubric=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = []
        for criterion in rubric:
            scale = int(criterion.get("scale", 5))
            name = f"score_{criterion['code']}"
            self.fields[name] = forms.ChoiceField(
                label=criterion_label(criterion), widget=forms.RadioSelect, required=False,
                choices=[(str(lv["value"]), f"{lv['value']}: {lv['name']}") for lv in levels(scale)],
                help_text=_("1 (poor) to %(scale)s (excellent); weight %(weight)s") % {
                    "scale": scale, "weight": criterion.get("weight", 1)})
            self.criteria.append((criterion["code"], name))
        self.order_fields([name for _code, name in self.criteria] + ["recommendation", "comments_for_committee",
                                                                     "comments_for_applicant"])

    def scores(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(name) for code, name in self.criteria}

    def add_service_errors(self, exc) -> None:
        """Map the service's per-criterion errors (keyed by criterion code) onto the radio groups."""
        if hasattr(exc, "error_dict"):
            names = dict(self.criteria)
            for key in list(exc.error_dict):
                if key in names:
                    exc.error_dict[names[key]] = exc.error_dict.pop(key)
        apply_validation_error(self, exc)
