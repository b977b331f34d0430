"""The managers' list of final reports, declared once for its page (portal.listquery)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.listquery import ListSpec

from .forms import FinalReportFilterForm
from .selectors import final_report_overview

FINAL_REPORT_LIST = ListSpec(
    form=FinalReportFilterForm,
    sorts={"reference": ("allocation__reference",), "organisation": ("allocation__organisation__legal_name",),
           "mode": ("allocation__application__access_mode__name",), "due_date": ("due_date",),
           "status": ("status",)},
    default_sort="due_date",  # the earliest due first
    filter=final_report_overview,
)
FINAL_REPORT_COLUMNS = [("reference", _("Allocation")), ("organisation", _("Organisation")),
                        ("mode", _("Access mode")), ("due_date", _("Due on")), ("status", _("Status"))]
