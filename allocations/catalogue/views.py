"""The front door: what the service offers, to whom, and how to apply, from the catalogue's data."""

from __future__ import annotations

from django.shortcuts import redirect, render

from accounts.home import landing_url
from allocations.catalogue import selectors
from allocations.catalogue.presentation import eligible_types, mode_facts
from portal.operator import operator


def home(request):
    """Public: who runs the service, who may apply, the access modes with their caps, durations and
    decision times (the modes' data, as staff edit it), the steps of an application, and contact."""
    if request.user.is_authenticated:  # staff to their work, applicants to their dashboard
        return redirect(landing_url(request.user))
    modes = list(selectors.active_access_modes())
    return render(request, "portal/home.html", {
        "modes": [mode_facts(mode) for mode in modes], "eligible": eligible_types(modes),
        "sites": selectors.active_sites(), "operator": operator()})
