"""Aid pages: the organisation's linked enterprises and self-declaration (its owners), and the ledger, its
corrections and the register download (allocation managers, ethics officers and operators, under /staff/ and
its second factor). Views fetch through the selectors, call one service, and show its errors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import is_owner
from allocations.aid import selectors, services
from allocations.aid.export import register_file
from allocations.aid.forms import CorrectionForm, DeclarationForm, LinkForm, RegisterForm
from allocations.aid.models import LinkedEnterprise
from portal.forms import apply_validation_error
from portal.paging import page_of, querystring_without_page

# ------------------------------------------------------------------------------ the organisation


@login_required
@require_http_methods(["GET", "POST"])
def organisation_aid(request, pk):
    organisation = selectors.organisation_for_member(request.user, pk)
    owner = is_owner(request.user, organisation)
    link_form, declaration_form = LinkForm(prefix="link"), DeclarationForm(prefix="declare")
    if request.method == "POST":
        if not owner:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "link":
            link_form = LinkForm(request.POST, prefix="link")
            if link_form.is_valid():
                data = link_form.cleaned_data
                try:
                    services.linked_enterprise_add(
                        actor=request.user, organisation=organisation, relation=data["relation"], name=data["name"],
                        country=data["country"], vat_number=data["vat_number"],
                        linked_organisation=link_form.linked_organisation())
                except ValidationError as exc:
                    apply_validation_error(link_form, exc)
                else:
                    messages.success(request, _("The linked enterprise was added. Declare the aid received again: "
                                                "the declaration covers the whole single undertaking."))
                    return redirect("aid:organisation_aid", organisation.pk)
        elif action == "declare":
            declaration_form = DeclarationForm(request.POST, prefix="declare")
            if declaration_form.is_valid():
                try:
                    services.aid_self_declare(actor=request.user, organisation=organisation,
                                              aids=declaration_form.aids())
                except ValidationError as exc:
                    apply_validation_error(declaration_form, exc)
                else:
                    messages.success(request, _("Your declaration of de minimis aid was recorded."))
                    return redirect("aid:organisation_aid", organisation.pk)
    declaration = selectors.latest_declaration(organisation.pk)
    return render(request, "allocations/aid/organisation_aid.html", {
        "organisation": organisation, "is_owner": owner, "link_form": link_form,
        "declaration_form": declaration_form, "declaration": declaration,
        "declaration_current": selectors.declaration_is_current(organisation),
        "links": list(LinkedEnterprise.objects.filter(organisation=organisation).order_by("pk")),
        "linked_by_others": list(LinkedEnterprise.objects.filter(linked_organisation=organisation)
                                 .select_related("organisation").order_by("pk")),
        "max_age_days": selectors.declaration_max_age_days()}, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def link_remove(request, pk, link_pk):
    organisation = selectors.organisation_for_member(request.user, pk)
    link = get_object_or_404(LinkedEnterprise, pk=link_pk, organisation=organisation)
    services.linked_enterprise_remove(actor=request.user, link=link)
    messages.success(request, _("The linked enterprise was removed. Declare the aid received again."))
    return redirect("aid:organisation_aid", organisation.pk)


# ------------------------------------------------------------------------------ staff


def _require_reader(user) -> None:
    if not selectors.can_read_ledger(user):
        raise PermissionDenied


@login_required
@require_GET
def ledger(request):
    _require_reader(request.user)
    today = timezone.localdate()
    register_form = RegisterForm(initial={"start": today.replace(month=1, day=1), "end": today})
    return render(request, "allocations/aid/ledger.html", {
        "page": page_of(request, selectors.ledger_lines()), "querystring": querystring_without_page(request),
        "register_form": register_form, "can_correct": selectors.can_correct(request.user),
        "ceiling": selectors.ceiling()})


@login_required
@require_http_methods(["GET", "POST"])
def line_correct(request, pk):
    if not selectors.can_correct(request.user):
        raise PermissionDenied
    line = selectors.ledger_line(pk)
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.aid_correction_record(actor=request.user, line=line, amount=form.cleaned_data["amount"],
                                           reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("The correction was recorded."))
            return redirect("aid:ledger")
    return render(request, "allocations/aid/line_correct.html", {
        "line": line, "form": form, "net_value": selectors.net_value(line),
        "corrections": list(line.corrections.order_by("pk"))}, status=400 if form.errors else 200)


@login_required
@require_GET
def register_download(request):
    _require_reader(request.user)
    form = RegisterForm(request.GET)
    if not form.is_valid():
        return render(request, "allocations/aid/ledger.html", {
            "page": page_of(request, selectors.ledger_lines()), "querystring": "", "register_form": form,
            "can_correct": selectors.can_correct(request.user), "ceiling": selectors.ceiling()}, status=400)
    data = form.cleaned_data
    content, content_type, name = register_file(start=data["start"], end=data["end"], fmt=data["fmt"],
                                                basis=data["basis"], language=get_language() or "en")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
