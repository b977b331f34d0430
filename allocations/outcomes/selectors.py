"""Reads of final reports and outputs: the organisation's (scoped by membership through the allocation
it reached) and the allocation managers' (lists, the staff home)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.home import ITEMS_SHOWN, WorkList, due_item, waiting_item
from allocations.grants.models import Allocation
from allocations.grants.selectors import of_allocations
from portal.listquery import search

from .models import OPEN_STATUSES, FinalReport, FinalReportStatus, Output, SubmissionOverride


def final_report_of(allocation: Allocation) -> FinalReport | None:
    """The allocation's final report, if one was opened (an allocation reached through a scoping selector)."""
    return FinalReport.objects.filter(allocation=allocation).first()


def outputs_of(allocation: Allocation) -> list[Output]:
    return list(Output.objects.filter(allocation=allocation).order_by("recorded_at", "pk"))


def output_of_allocation(allocation: Allocation, pk: int) -> Output:
    output = Output.objects.filter(allocation=allocation, pk=pk).select_related("allocation").first()
    if output is None:
        raise Http404
    return output


def acknowledgement_sentence(allocation: Allocation) -> str:
    """The sentence an organisation puts in its publications (one sentence, the operator's name)."""
    return _("This work used compute resources of the AI Factory operated by %(operator)s, awarded under "
             "allocation %(reference)s with the support of the EuroHPC Joint Undertaking.") % {
        "operator": settings.AIF_OPERATOR_NAME, "reference": allocation.reference}


# --- the managers' side ---------------------------------------------------------------------------

# The list's filters (a person reads the labels, the URL carries the keys).
STATE_FILTERS = {
    "due": lambda today: Q(status__in=OPEN_STATUSES, due_date__gte=today),
    "overdue": lambda today: Q(status__in=OPEN_STATUSES, due_date__lt=today),
    "submitted": lambda today: Q(status=FinalReportStatus.SUBMITTED),
    "accepted": lambda today: Q(status=FinalReportStatus.ACCEPTED),
}


def final_report_overview(*, state: str = "", site: str = "", mode: str = "", sector: str = "",
                          organisation: int | None = None, date_from: datetime.date | None = None,
                          date_to: datetime.date | None = None, q: str = "",
                          today: datetime.date | None = None) -> QuerySet[FinalReport]:
    """Every final report, filtered by the list's parameters (``outcomes.lists.FINAL_REPORT_LIST``; the dates
    bound the due date), with what a row prints: one query for a page. The search reads the allocation's
    reference and the organisation's name."""
    today = today or timezone.localdate()
    qs = FinalReport.objects.select_related("allocation__organisation", "allocation__application__access_mode")
    if state in STATE_FILTERS:
        qs = qs.filter(STATE_FILTERS[state](today))
    qs = of_allocations(qs, "allocation__", site=site, mode=mode, sector=sector, organisation=organisation)
    if date_from:
        qs = qs.filter(due_date__gte=date_from)
    if date_to:
        qs = qs.filter(due_date__lte=date_to)
    qs = search(qs, q, reference="allocation__reference", organisation=("allocation__organisation", "legal_name"))
    return qs.annotate(output_count=Count("allocation__outputs"))


def final_report_for_manager(reference: str) -> FinalReport:
    report = (FinalReport.objects.select_related("allocation__organisation", "allocation__application__access_mode",
                                                 "submitted_by", "reviewed_by")
              .filter(allocation__reference=reference).first())
    if report is None:
        raise Http404
    return report


def overrides_of(organisation_id: int) -> list[SubmissionOverride]:
    return list(SubmissionOverride.objects.filter(organisation_id=organisation_id)
                .select_related("granted_by", "used_for").order_by("-granted_at", "-pk"))


def manager_work(user, today: datetime.date) -> list[WorkList]:
    """The committee's final reports: those overdue (by due date, the oldest first) and those submitted
    and waiting for a review (how long each has waited). Four queries."""
    list_url = reverse("outcomes:staff_final_report_list")
    overdue = final_report_overview(state="overdue", today=today).order_by("due_date", "pk")
    to_review = final_report_overview(state="submitted", today=today).order_by("submitted_at", "pk")

    def link(report: FinalReport) -> str:
        return reverse("outcomes:staff_final_report", args=[report.allocation.reference])

    return [
        WorkList(key="final_reports_overdue", label=_("Final reports overdue"), count=overdue.count(),
                 link=f"{list_url}?state=overdue", empty=_("No final report is overdue."),
                 items=[due_item(title=f"{r.allocation.reference} · {r.allocation.organisation.legal_name}",
                                 detail=str(r.get_status_display()), due=r.due_date, today=today, link=link(r))
                        for r in overdue[:ITEMS_SHOWN]]),
        WorkList(key="final_reports_to_review", label=_("Final reports to review"), count=to_review.count(),
                 link=f"{list_url}?state=submitted", empty=_("No final report waits for a review."),
                 items=[waiting_item(title=f"{r.allocation.reference} · {r.allocation.organisation.legal_name}",
                                     detail=str(r.allocation.application.access_mode or ""),
                                     since=timezone.localdate(r.submitted_at) if r.submitted_at else None,
                                     today=today, link=link(r))
                        for r in to_review[:ITEMS_SHOWN]]),
    ]
