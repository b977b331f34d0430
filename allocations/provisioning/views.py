"""Operator pages: provisioning status per site, drift, attempts, hand-over tasks, re-runs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation
from allocations.provisioning.models import HandoverTask, RecordedChange, SyncAttempt, SyncAttemptKind, SyncOutcome
from allocations.provisioning.services import backend_for, backend_kind, handover_done, site_desired
from allocations.provisioning.slurm.errors import SlurmError
from allocations.provisioning.tasks import provision_allocation, slurm_reconcile_site


def _require_operator(user) -> None:
    if not has_role(user, Role.OPERATOR):
        raise PermissionDenied


@login_required
def overview(request):
    _require_operator(request.user)
    sites = list(Site.objects.order_by("name"))
    states = {}
    for site_id, state, n in (Allocation.objects.filter(quotas__site__in=sites)
                              .values_list("quotas__site_id", "sync_state").annotate(n=Count("pk", distinct=True))):
        states.setdefault(site_id, {})[state] = n
    last_full = {}
    for attempt in SyncAttempt.objects.filter(kind=SyncAttemptKind.FULL_RECONCILE).order_by("site_id", "-started_at"):
        last_full.setdefault(attempt.site_id, attempt)
    rows = [{"site": s, "backend": backend_kind(s), "states": states.get(s.pk, {}), "last_full": last_full.get(s.pk)}
            for s in sites]
    context = {
        "rows": rows,
        "errors": SyncAttempt.objects.filter(outcome=SyncOutcome.ERROR).select_related("site", "allocation")[:20],
        "attempts": SyncAttempt.objects.select_related("site", "allocation")[:30],
        "handovers": HandoverTask.objects.filter(done_at=None).select_related("site", "allocation"),
    }
    return render(request, "allocations/ops/overview.html", context)


@login_required
def site_detail(request, code):
    """Desired vs actual for one site: one read of the cluster."""
    _require_operator(request.user)
    site = get_object_or_404(Site, code=code)
    desired = site_desired(site)
    actual, error = {}, ""
    if backend_kind(site) != "handover":
        try:
            actual = backend_for(site).read(site.slurm_cluster, {d.name for d in desired})
        except SlurmError as exc:
            error = str(exc)
    rows = []
    for item in desired:
        seen = actual.get(item.name)
        want = {"parent": getattr(item, "parent", "root"), "limits": getattr(item, "limits", {}),
                "blocked": getattr(item, "blocked", None), "users": sorted(getattr(item, "users", []))}
        have = None if seen is None else {"parent": seen.parent, "limits": dict(seen.limits), "blocked": seen.blocked,
                                          "users": sorted(seen.users)}
        rows.append({"name": item.name, "want": want, "have": have,
                     "match": have is not None and all(want[k] == have[k] for k in ("parent", "blocked", "users"))
                     and (not want["limits"] or want["limits"] == have["limits"])})
    context = {"site": site, "backend": backend_kind(site), "rows": rows, "error": error,
               "recorded": RecordedChange.objects.filter(site=site)[:30]}
    return render(request, "allocations/ops/site_detail.html", context)


@login_required
@require_POST
def rerun_site(request, code):
    _require_operator(request.user)
    site = get_object_or_404(Site, code=code)
    slurm_reconcile_site.delay(site.pk)
    messages.success(request, _("A full reconcile of %(site)s was queued.") % {"site": site.name})
    return redirect("provisioning:overview")


@login_required
@require_POST
def rerun_allocation(request, reference):
    _require_operator(request.user)
    allocation = Allocation.objects.filter(reference=reference).first()
    if allocation is None:
        raise Http404
    provision_allocation.delay(allocation.pk)
    messages.success(request, _("Provisioning of %(ref)s was queued.") % {"ref": reference})
    return redirect("provisioning:overview")


@login_required
@require_POST
def handover_mark_done(request, pk):
    _require_operator(request.user)
    task = get_object_or_404(HandoverTask, pk=pk)
    handover_done(actor=request.user, task=task, note=request.POST.get("note", "")[:2000])
    messages.success(request, _("Hand-over recorded as done."))
    return redirect("provisioning:overview")
