"""The Django admin for people and organisations (portal/admin.py says which admins are read-only and
which are audited, and why).

An organisation's details change through the same service as the owner's page (its checks, its SME
class and its `organisation.updated` event); a person's account through the audited admin (a name or an
address is recorded as changed, never by value); memberships and invitations are their owners' to manage
in the portal, and sign-in records (addresses, second factors, single sign-on) are only looked at, except
that a lost second factor may be removed, which is audited."""

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin as BaseAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from allauth.socialaccount.admin import SocialAccountAdmin as BaseSocialAccountAdmin
from allauth.socialaccount.admin import SocialAppAdmin as BaseSocialAppAdmin
from allauth.socialaccount.admin import SocialTokenAdmin as BaseSocialTokenAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal.admin import REDACTED, AuditedAdmin, ReadOnlyAdminMixin, ReadOnlyInline
from portal.audit import AuditAction, audit_record

from . import services
from .models import Invitation, Membership, Organisation, User
from .vat import normalise_vat


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ["user", "role", "joined_at"]


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined", "erased_at"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login", "erased_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["full_name"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined", "erased_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    audit_redacted_fields = ("full_name",)

    def has_delete_permission(self, request, obj=None):
        # A person leaves through erasure (accounts.privacy), which keeps the records that name them.
        return False

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                audit_record(actor=request.user, action=AuditAction.ADMIN_CHANGED, target=("accounts.user", str(id)),
                             changes={"password": [REDACTED, REDACTED]})
        return response


class OrganisationAdminForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = services.ORGANISATION_FIELDS

    def clean(self):
        # The number as the service stores it, so that the uniqueness check compares like with like.
        cleaned = super().clean()
        if cleaned.get("country") and cleaned.get("vat_number"):
            try:
                cleaned["vat_number"] = normalise_vat(cleaned["country"], cleaned["vat_number"])
            except ValidationError as exc:
                self.add_error("vat_number", exc)
        return cleaned


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
    list_display = ["legal_name", "country", "org_type", "vat_number", "sme_class", "created_at"]
    list_filter = ["country", "org_type", "sme_class"]
    search_fields = ["legal_name", "vat_number"]
    readonly_fields = ["sme_class", "created_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        # Organisations are registered by their first owner (accounts.services.organisation_create).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.ORGANISATION_FIELDS}
        services.organisation_update_by_operator(actor=request.user, organisation=obj, data=data)
        obj.refresh_from_db()


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "joined_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organisation__legal_name"]
    list_select_related = ["user", "organisation"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["organisation"]
    search_fields = ["email", "organisation__legal_name"]
    exclude = ["token_hash"]


# Roles are defined in code (accounts.roles) and set up by `manage.py setup_roles`; people are given a
# role on their account, where the change is audited.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdminMixin, BaseGroupAdmin):
    pass


# Sign-in records belong to their person's own pages (/accounts/email/, the second-factor pages).
for model in (EmailAddress, Authenticator, SocialApp, SocialToken, SocialAccount):
    admin.site.unregister(model)


@admin.register(EmailAddress)
class EmailAddressAdmin(ReadOnlyAdminMixin, BaseEmailAddressAdmin):
    actions = []


@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedAdmin, BaseAuthenticatorAdmin):
    """Looked at only; a lost second factor may be removed (the person sets up a new one at the next
    sign-in), and the removal is audited. Its secrets are never shown or recorded."""

    exclude = ["data"]
    audit_redacted_fields = ("data",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SocialApp)
class SocialAppAdmin(ReadOnlyAdminMixin, BaseSocialAppAdmin):
    """Single sign-on is configured in the settings (OIDC_*); the secrets stay out of the page."""

    exclude = ["secret", "key"]


@admin.register(SocialToken)
class SocialTokenAdmin(ReadOnlyAdminMixin, BaseSocialTokenAdmin):
    list_display = ["app", "account", "expires_at"]
    exclude = ["token", "token_secret"]


@admin.register(SocialAccount)
class SocialAccountAdmin(ReadOnlyAdminMixin, BaseSocialAccountAdmin):
    pass
