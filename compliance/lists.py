"""The ethics officers' lists as the page and the API read them: filters, sortable columns, default sort
(portal.listquery)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from compliance.forms import AuditEventFilterForm, EthicsFilterForm
from compliance.selectors import audit_event_overview, ethics_overview
from portal.listquery import ListSpec

ETHICS_LIST = ListSpec(
    form=EthicsFilterForm,
    sorts={"reference": ("application__reference",), "title": ("application__title",),
           "organisation": ("application__organisation__legal_name",), "sector": ("application__sector",),
           "status": ("status",), "created_at": ("created_at",), "decided_at": ("decided_at",),
           "decision_due": ("application__decision_due",)},
    default_sort="created_at",  # the longest waiting first
    filter=ethics_overview,
)
ETHICS_COLUMNS = [("reference", _("Reference")), ("title", _("Title")), ("organisation", _("Organisation")),
                  ("sector", _("Sector")), ("status", _("Status")), ("created_at", _("Waiting since")),
                  ("decision_due", _("Decision due"))]
# The page opens on the queue: these filters when its address has no query string.
ETHICS_QUEUE = {"status": "pending"}

AUDIT_LIST = ListSpec(
    form=AuditEventFilterForm,
    sorts={"seq": ("seq",), "created_at": ("created_at",), "action": ("action",)},
    default_sort="-seq",  # newest first
    filter=audit_event_overview,
)
AUDIT_COLUMNS = [("seq", _("No.")), ("created_at", _("When")), ("action", _("Action"))]
