"""Operator pages: provisioning status per site, drift, attempts, hand-over tasks, re-runs.

Reads come from `selectors`, writes from the same services the API calls (`services.provisioning_*`,
`services.handover_done`); a rule a service refuses is shown as a message."""

from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import operator_required
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation
from allocations.provisioning import selectors, services
from allocations.provisioning.models import HandoverTask
from allocations.terms import selectors as terms_selectors
from portal.forms import run_with_message


def _done(request, action, success: str):
    """Run one service; its refusal becomes an error message, then back to the overview."""
    run_with_message(request, action, success)
    return redirect("provisioning:overview")


@operator_required
def overview(request):
    context = {
        "rows": selectors.site_sync(selectors.sites_for_operators()),
        "errors": selectors.recent_errors(),
        "attempts": selectors.recent_attempts(),
        "handovers": selectors.open_handovers(),
        "job_actions": selectors.job_actions(limit=15),
    }
    return render(request, "allocations/provisioning/overview.html", context)


@operator_required
def site_detail(request, code):
    """Desired vs actual for one site, from the last read a task stored (no call to Slurm here)."""
    site = get_object_or_404(Site, code=code)
    not_accepted = terms_selectors.site_not_accepted(site)
    context = {"drift": selectors.site_drift(site), "recorded": selectors.recorded_changes(site),
               "terms_not_accepted": len(not_accepted), "job_actions": selectors.job_actions(site=site),
               "storage": selectors.site_storage(site),
               "terms_held_out": sum(1 for row in not_accepted if row.held_out)}
    return render(request, "allocations/provisioning/site_detail.html", context)


@operator_required
@require_POST
def refresh_site(request, code):
    """Queue a read of the site's Slurm; the page shows it once a worker stored it."""
    site = get_object_or_404(Site, code=code)
    run_with_message(request, lambda: services.provisioning_refresh_site(actor=request.user, site=site),
                     _("A read of %(site)s was queued: reload this page in a moment.") % {"site": site.name})
    return redirect("provisioning:site_detail", code=site.code)


@operator_required
@require_POST
def rerun_site(request, code):
    site = get_object_or_404(Site, code=code)
    return _done(request, lambda: services.provisioning_reconcile_site(actor=request.user, site=site),
                 _("A full reconcile of %(site)s was queued.") % {"site": site.name})


@operator_required
@require_POST
def rerun_allocation(request, reference):
    allocation = get_object_or_404(Allocation, reference=reference)
    return _done(request, lambda: services.provisioning_rerun_allocation(actor=request.user, allocation=allocation),
                 _("Provisioning of %(ref)s was queued.") % {"ref": allocation.reference})


@operator_required
@require_POST
def handover_mark_done(request, pk):
    task = get_object_or_404(HandoverTask, pk=pk)
    return _done(request, lambda: services.handover_done(actor=request.user, task=task,
                                                         note=request.POST.get("note", "")[:2000]),
                 _("Hand-over recorded as done."))
