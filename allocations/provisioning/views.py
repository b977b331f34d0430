"""Operator pages: provisioning status per site, drift, attempts, hand-over tasks, re-runs.

Reads come from `selectors`, writes from the same services the API calls (`services.provisioning_*`,
`services.handover_done`); a rule a service refuses is shown as a message."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation
from allocations.provisioning import selectors, services
from allocations.provisioning.models import HandoverTask
from portal.forms import run_with_message


def _require_operator(user) -> None:
    if not has_role(user, Role.OPERATOR):
        raise PermissionDenied


def _done(request, action, success: str):
    """Run one service; its refusal becomes an error message, then back to the overview."""
    run_with_message(request, action, success)
    return redirect("provisioning:overview")


@login_required
def overview(request):
    _require_operator(request.user)
    context = {
        "rows": selectors.site_sync(selectors.sites_for_operators()),
        "errors": selectors.recent_errors(),
        "attempts": selectors.recent_attempts(),
        "handovers": selectors.open_handovers(),
    }
    return render(request, "allocations/provisioning/overview.html", context)


@login_required
def site_detail(request, code):
    """Desired vs actual for one site: one read of the cluster, compared by the planner."""
    _require_operator(request.user)
    site = get_object_or_404(Site, code=code)
    context = {"drift": selectors.site_drift(site), "recorded": selectors.recorded_changes(site)}
    return render(request, "allocations/provisioning/site_detail.html", context)


@login_required
@require_POST
def rerun_site(request, code):
    _require_operator(request.user)
    site = get_object_or_404(Site, code=code)
    return _done(request, lambda: services.provisioning_reconcile_site(actor=request.user, site=site),
                 _("A full reconcile of %(site)s was queued.") % {"site": site.name})


@login_required
@require_POST
def rerun_allocation(request, reference):
    _require_operator(request.user)
    allocation = get_object_or_404(Allocation, reference=reference)
    return _done(request, lambda: services.provisioning_rerun_allocation(actor=request.user, allocation=allocation),
                 _("Provisioning of %(ref)s was queued.") % {"ref": allocation.reference})


@login_required
@require_POST
def handover_mark_done(request, pk):
    _require_operator(request.user)
    task = get_object_or_404(HandoverTask, pk=pk)
    return _done(request, lambda: services.handover_done(actor=request.user, task=task,
                                                         note=request.POST.get("note", "")[:2000]),
                 _("Hand-over recorded as done."))
