"""The committee's and the reviewers' lists as the page and the API read them: filters, sortable columns, default sort
(portal.listquery)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from allocations.review.forms import AssignmentFilterForm, OverviewFilterForm
from allocations.review.selectors import application_overview, assignment_overview
from portal.listquery import ListSpec

APPLICATION_LIST = ListSpec(
    form=OverviewFilterForm,
    sorts={"reference": ("reference",), "title": ("title",), "organisation": ("organisation__legal_name",),
           "status": ("status",), "submitted_at": ("submitted_at",), "decision_due": ("decision_due",),
           "created_at": ("created_at",)},
    default_sort="-submitted_at",
    filter=application_overview,
)
# The sortable columns of the page, in their order (the API sorts by the same keys).
APPLICATION_COLUMNS = [("reference", _("Reference")), ("title", _("Title")), ("organisation", _("Organisation")),
                       ("submitted_at", _("Submitted")), ("status", _("Status")), ("decision_due", _("Decision due"))]

ASSIGNMENT_LIST = ListSpec(
    form=AssignmentFilterForm,
    # No title column: before the declaration (and after a conflict) the reviewer does not read it.
    sorts={"reference": ("application__reference",), "organisation": ("application__organisation__legal_name",),
           "kind": ("kind",), "status": ("status", "due_date"), "due_date": ("due_date",),
           "assigned_at": ("assigned_at",)},
    default_sort="status",  # open ones first (accepted, assigned), then by due date
    filter=assignment_overview,
)
ASSIGNMENT_COLUMNS = [("reference", _("Reference")), ("organisation", _("Organisation")), ("kind", _("Kind")),
                      ("status", _("Status")), ("due_date", _("Due"))]
