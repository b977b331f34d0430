"""The managers' list of allocations as the page and the API read it: filters, sortable columns, default
sort (portal.listquery)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from allocations.grants.forms import AllocationFilterForm
from allocations.grants.selectors import allocation_overview
from portal.listquery import ListSpec

ALLOCATION_LIST = ListSpec(
    form=AllocationFilterForm,
    sorts={"reference": ("reference",), "organisation": ("organisation__legal_name",), "status": ("status",),
           "start_date": ("start_date",), "end_date": ("end_date",), "created_at": ("created_at",)},
    default_sort="-created_at",
    filter=allocation_overview,
)
# The sortable columns of the page, in their order (the API sorts by the same keys).
ALLOCATION_COLUMNS = [("reference", _("Reference")), ("organisation", _("Organisation")), ("status", _("Status")),
                      ("start_date", pgettext_lazy("date", "Start")),
                      ("end_date", pgettext_lazy("date", "End"))]
