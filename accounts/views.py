import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.forms import apply_validation_error, run_with_message
from portal.paging import page_of

from . import home as staff_work
from . import notifications, privacy, selectors, services
from .forms import (
    ApiTokenForm,
    EraseAccountForm,
    InvitationForm,
    MembershipRoleForm,
    NotificationPreferenceForm,
    OrganisationForm,
    SshKeyForm,
)
from .models import MembershipRole, NotificationDelivery, default_language
from .permissions import is_owner
from .roles import is_staff_member, roles_of


@login_required
def dashboard(request):
    context = {
        "organisations": selectors.organisations_for(request.user),
        "roles": roles_of(request.user),
    }
    return render(request, "portal/dashboard.html", context)


@login_required
def staff_home(request):
    # StaffMFARequiredMiddleware only asks staff for a second factor; it does not keep others out.
    if not is_staff_member(request.user):
        raise PermissionDenied
    return render(request, "portal/staff_home.html", {
        "roles": roles_of(request.user), "sections": staff_work.sections_for(request.user)})


@login_required
def organisation_list(request):
    organisations = selectors.organisations_for(request.user)
    return render(request, "accounts/organisation_list.html", {"organisations": organisations})


@login_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Organisation %(name)s registered.") % {"name": org.legal_name})
            return redirect("dashboard")
    return render(request, "accounts/organisation_form.html", {"form": form, "creating": True})


@login_required
def organisation_detail(request, pk):
    org = selectors.organisation_for_member(request.user, pk)
    context = {
        "organisation": org,
        "members": selectors.organisation_members(org),
        "invitations": selectors.organisation_open_invitations(org),
        "is_owner": is_owner(request.user, org),
        "invite_form": InvitationForm(),
        "role_choices": MembershipRole.choices,
    }
    return render(request, "accounts/organisation_detail.html", context)


@login_required
def organisation_edit(request, pk):
    org = selectors.organisation_for_member(request.user, pk)
    if not is_owner(request.user, org):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(actor=request.user, organisation=org, data=form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Organisation updated."))
            return redirect(org.get_absolute_url())
    return render(request, "accounts/organisation_form.html", {"form": form, "organisation": org})


@login_required
@require_POST
def invitation_create(request, pk):
    org = selectors.organisation_for_member(request.user, pk)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_create(actor=request.user, organisation=org, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(org.get_absolute_url())


@login_required
@require_POST
def invitation_revoke(request, pk, invitation_pk):
    org = selectors.organisation_for_member(request.user, pk)
    invitation = selectors.invitation_in_organisation(org, invitation_pk)
    services.invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, _("Invitation revoked."))
    return redirect(org.get_absolute_url())


@login_required
def invitation_accept(request, token):
    if request.method == "POST":
        try:
            membership = services.invitation_accept(actor=request.user, token=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("dashboard")
        messages.success(request, _("You joined %(name)s.") % {"name": membership.organisation.legal_name})
        return redirect(membership.organisation.get_absolute_url())
    return render(request, "accounts/invitation_accept.html", {"token": token})


@login_required
@require_POST
def membership_role(request, pk, membership_pk):
    org = selectors.organisation_for_member(request.user, pk)
    membership = selectors.membership_in_organisation(org, membership_pk)
    form = MembershipRoleForm(request.POST)
    if form.is_valid():
        run_with_message(request, lambda: services.membership_set_role(
            actor=request.user, membership=membership, role=form.cleaned_data["role"]), _("Role updated."))
    return redirect(org.get_absolute_url())


@login_required
@require_POST
def membership_remove(request, pk, membership_pk):
    org = selectors.organisation_for_member(request.user, pk)
    membership = selectors.membership_in_organisation(org, membership_pk)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(org.get_absolute_url())
    if membership.user_id == request.user.pk:
        messages.success(request, _("You left %(name)s.") % {"name": org.legal_name})
        return redirect("dashboard")
    messages.success(request, _("Member removed."))
    return redirect(org.get_absolute_url())


@login_required
def privacy_index(request):
    return render(request, "accounts/privacy.html", {"erase_form": EraseAccountForm()})


@login_required
def privacy_export(request):
    data = privacy.user_export_data(user=request.user)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@login_required
def privacy_erase(request):
    form = EraseAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        privacy.user_erase(actor=request.user, user=request.user)
        logout(request)
        messages.success(request, _("Your personal data was erased and you were signed out."))
        return redirect("home")
    return render(request, "accounts/privacy.html", {"erase_form": form, "erasing": True})


@login_required
@never_cache
def api_tokens(request):
    """List and create API tokens. A new token's secret is shown on this response only."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.api_token_create(actor=request.user, name=form.cleaned_data["name"],
                                                      scopes=form.scopes(), expires_at=form.expires_at())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            created = {"token": token, "secret": secret}
            form = ApiTokenForm()
    return render(request, "accounts/api_tokens.html", {
        "form": form, "created": created, "tokens": selectors.api_tokens_of(request.user)})


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = selectors.api_token_of(request.user, pk)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token %(name)s revoked: programs using it are refused from now on.") % {
        "name": token.name})
    return redirect("accounts:api_tokens")


@login_required
def ssh_keys(request):
    """The person's SSH public keys, pushed to their accounts on the sites that keep users in a directory."""
    form = SshKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = services.ssh_key_add(actor=request.user, text=form.cleaned_data["key"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Key %(fingerprint)s added.") % {"fingerprint": key.fingerprint})
            return redirect("accounts:ssh_keys")
    return render(request, "accounts/ssh_keys.html", {"form": form, "keys": selectors.ssh_keys_of(request.user)},
                  status=400 if form.is_bound and form.errors else 200)


@login_required
@require_POST
def ssh_key_remove(request, pk):
    key = selectors.ssh_key_of(request.user, pk)
    services.ssh_key_remove(actor=request.user, key=key)
    messages.success(request, _("Key %(fingerprint)s removed.") % {"fingerprint": key.fingerprint})
    return redirect("accounts:ssh_keys")


# --- the person's account and notifications ---------------------------------------------------------


@login_required
def account(request):
    preference = selectors.notification_preference_of(request.user)
    # Without a saved choice: mails as they come; the language is the person's (set at sign-up).
    initial = {"delivery": preference.delivery if preference else NotificationDelivery.IMMEDIATE,
               "language": request.user.language or get_language() or default_language()}
    form = NotificationPreferenceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            notifications.notification_preference_set(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Your notification preference was saved."))
            return redirect("accounts:account")
    return render(request, "accounts/account.html", {"form": form, "roles": roles_of(request.user)})


@login_required
def notification_list(request):
    page = page_of(request, selectors.notifications_of(request.user))
    return render(request, "accounts/notification_list.html", {"page": page, "notifications": page})


@login_required
@require_POST
def notification_open(request, pk):
    """Mark the notification read and go to what it is about (a path the portal stored itself)."""
    notification = selectors.notification_of(request.user, pk)
    notifications.notification_mark_read(actor=request.user, notification=notification)
    if url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None) and notification.link.startswith("/"):
        return redirect(notification.link)
    return redirect("accounts:notifications")


@login_required
@require_POST
def notification_read(request, pk):
    notification = selectors.notification_of(request.user, pk)
    notifications.notification_mark_read(actor=request.user, notification=notification)
    return redirect(_back_to_list(request))


@login_required
@require_POST
def notification_read_all(request):
    count = notifications.notifications_mark_all_read(actor=request.user)
    if count:
        messages.success(request, _("Every notification is marked as read."))
    return redirect(_back_to_list(request))


def _back_to_list(request) -> str:
    """The list page the person was on (its page number kept), never another site."""
    page = request.POST.get("page", "")
    url = reverse("accounts:notifications")
    return f"{url}?page={page}" if page.isdigit() else url
