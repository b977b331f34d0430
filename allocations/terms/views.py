"""Terms of use pages: the person reads and accepts what is pending; the operator publishes a version and
sees, per site, who has not accepted and whether that holds them out of the association."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import operator_required
from allocations.catalogue.models import Site
from allocations.terms import selectors, services
from allocations.terms.forms import TermsPublishForm
from portal.forms import run_service, run_with_message


@login_required
def pending(request):
    return render(request, "allocations/terms/pending.html", {
        "pending": selectors.pending_for(request.user), "accepted": selectors.accepted_by(request.user)})


@login_required
@require_POST
def accept(request, pk):
    version = selectors.version_for_acceptance(pk)
    if version is None:
        raise Http404
    run_with_message(request, lambda: services.terms_accept(actor=request.user, version=version,
                                                            language=translation.get_language() or "en"),
                     _("You accepted %(terms)s (version %(number)s).") % {"terms": version.scope_label,
                                                                         "number": version.number})
    return redirect("terms:pending")


@operator_required
def overview(request):
    sites = Site.objects.filter(is_active=True).order_by("name")
    return render(request, "allocations/terms/overview.html", {
        "versions": selectors.versions_for_operators(),
        "sites": [{"site": site, "rows": selectors.site_not_accepted(site)} for site in sites]})


@operator_required
def publish(request):
    form = TermsPublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_service(form, lambda: services.terms_publish(actor=request.user, **data)):
            messages.success(request, _("The new version was published."))
            return redirect("terms:overview")
    return render(request, "allocations/terms/publish.html", {"form": form, "error_forms": [form]})
