"""The managers' lists of allocations and change requests as the page and the API read them: filters,
sortable columns, default sort (portal.listquery)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from allocations.grants.forms import AllocationFilterForm, ChangeRequestFilterForm
from allocations.grants.selectors import allocation_overview, change_request_overview
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

CHANGE_REQUEST_LIST = ListSpec(
    form=ChangeRequestFilterForm,
    sorts={"reference": ("allocation__reference",), "organisation": ("allocation__organisation__legal_name",),
           "kind": ("kind",), "status": ("status",), "requested_at": ("requested_at",),
           "decided_at": ("decided_at",)},
    default_sort="requested_at",  # the longest waiting first
    filter=change_request_overview,
)
CHANGE_REQUEST_COLUMNS = [("reference", _("Allocation")), ("organisation", _("Organisation")), ("kind", _("Kind")),
                          ("requested_at", _("Asked")), ("status", _("Status")), ("decided_at", _("Decided"))]
# The page opens on the requests to decide: these filters when its address has no query string.
CHANGE_REQUESTS_TO_DECIDE = {"status": "submitted"}
