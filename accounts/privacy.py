"""Personal data: export everything the portal holds about a person, and erase them.

Every app, this one included, contributes what it holds through portal.privacy's `register_exporter` /
`register_eraser`, called from its AppConfig.ready(), naming the models each one covers. Erasure
pseudonymises: rows that are evidence (decisions, reviews, the application's team, provisioning records)
stay, the person's identifying details go. Audit events hold only the actor's id, so the chain still
verifies."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import privacy as privacy_registry
from portal.audit import AuditAction, action_label, audit_record
from portal.models import AuditEvent, AuditEventContext

from .models import AddressedMail, ApiToken, Invitation, Membership, SshPublicKey, User
from .roles import is_superuser, staff_mfa_missing


def pseudonym_email(user: User) -> str:
    return f"erased-{user.pk}@erased.invalid"


def pseudonym_name(user: User) -> str:
    """What pages show instead of an erased person's name, on their user row and wherever a copy was kept."""
    return _("Erased user #%(id)s") % {"id": user.pk}


def _when(value) -> str | None:
    return value.isoformat() if value else None


# --------------------------------------------------------------------------------- exporters

def export_profile(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "full_name": user.full_name, "language": user.language,
            "date_joined": _when(user.date_joined), "last_login": _when(user.last_login)}


def export_email_addresses(user: User) -> list[dict[str, Any]]:
    return [{"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user)]


def export_authenticators(user: User) -> list[dict[str, Any]]:
    return [{"type": a.type, "created_at": _when(a.created_at)} for a in Authenticator.objects.filter(user=user)]


def export_social_accounts(user: User) -> list[dict[str, Any]]:
    return [{"provider": a.provider, "uid": a.uid, "date_joined": _when(a.date_joined),
             "last_login": _when(a.last_login)} for a in SocialAccount.objects.filter(user=user)]


def export_api_tokens(user: User) -> list[dict[str, Any]]:
    return [{"name": t.name, "prefix": t.prefix, "scopes": t.scopes, "created_at": _when(t.created_at),
             "last_used_at": _when(t.last_used_at), "revoked_at": _when(t.revoked_at)}
            for t in ApiToken.objects.filter(user=user)]


def export_ssh_keys(user: User) -> list[dict[str, Any]]:
    return [{"type": k.key_type, "key": k.line, "comment": k.comment, "fingerprint": k.fingerprint,
             "added_at": _when(k.added_at)} for k in SshPublicKey.objects.filter(user=user)]


def export_memberships(user: User) -> list[dict[str, Any]]:
    return [{"organisation": m.organisation.legal_name, "organisation_id": m.organisation_id, "role": m.role,
             "role_label": str(m.get_role_display()), "joined_at": _when(m.joined_at)}
            for m in Membership.objects.filter(user=user).select_related("organisation")]


def export_invitations_received(user: User) -> list[dict[str, Any]]:
    return [{"organisation_id": i.organisation_id, "created_at": _when(i.created_at),
             "accepted_at": _when(i.accepted_at)} for i in Invitation.objects.filter(email__iexact=user.email)]


def export_invitations_sent(user: User) -> list[dict[str, Any]]:
    return [{"organisation_id": i.organisation_id, "email": i.email, "role": i.role,
             "role_label": str(i.get_role_display()), "created_at": _when(i.created_at),
             "accepted_at": _when(i.accepted_at), "revoked_at": _when(i.revoked_at)}
            for i in Invitation.objects.filter(invited_by=user)]


def export_audit_events(user: User) -> list[dict[str, Any]]:
    """The events the person caused, with the client address each was recorded from."""
    return [{"seq": e.seq, "created_at": _when(e.created_at), "action": e.action,
             "action_label": str(action_label(e.action)), "object_type": e.object_type, "object_id": e.object_id,
             "ip_address": e.ip_address}
            for e in AuditEvent.objects.filter(actor_id=user.pk).order_by("seq").annotate(ip_address=Subquery(
                AuditEventContext.objects.filter(event_id=OuterRef("pk")).values("ip_address")[:1]))]


def export_admin_actions(user: User) -> list[dict[str, Any]]:
    return [{"action_time": _when(e.action_time), "object": e.object_repr,
             "content_type": e.content_type.model if e.content_type else None, "action_flag": e.action_flag}
            for e in LogEntry.objects.filter(user=user).select_related("content_type").order_by("action_time")]


def user_export_data(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about the person. What they did as staff names other organisations'
    applications: like the staff pages, it needs a sign-in that passed the second factor."""
    staff_work = not staff_mfa_missing(user)
    data: dict[str, Any] = {"exported_at": timezone.now().isoformat()}
    for name, exporter in privacy_registry.exporters(staff=staff_work):
        data[name] = exporter(user)
    if not staff_work:
        data["staff_work_left_out"] = _("What you did as staff (reviews, decisions, reports, ...) is in the "
                                        "export when you sign in with your second factor.")
    return data


# --------------------------------------------------------------------------------- erasers

def erase_invitations(user: User, original_email: str) -> int:
    """Invitations sent to the person's address keep their row (who invited whom, when), not the address."""
    return Invitation.objects.filter(email__iexact=original_email).update(email=pseudonym_email(user))


def erase_addressed_mails(user: User, original_email: str) -> int:
    """The keyed hash of the address, kept for the mail limits (accounts.services.addressed_mail_record)."""
    return AddressedMail.objects.filter(address_hash=AddressedMail.hash_address(original_email)).delete()[0]


def erase_api_tokens(user: User, original_email: str) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]


def erase_ssh_keys(user: User, original_email: str) -> int:
    return SshPublicKey.objects.filter(user=user).delete()[0]


def erase_sign_in(user: User, original_email: str) -> int:
    """The addresses, second factors and linked single-sign-on accounts (with their tokens) go entirely."""
    return sum(model.objects.filter(user=user).delete()[0] for model in (EmailAddress, Authenticator, SocialAccount))


def erase_audit_context(user: User, original_email: str) -> int:
    """The client addresses of the person's events; the events themselves (ids only) stay in the chain."""
    return AuditEventContext.objects.filter(event__actor_id=user.pk).exclude(ip_address=None).update(ip_address=None)


def erase_admin_log(user: User, original_email: str) -> int:
    """The Django admin's history names an edited object by its text (a user's name, a team member's):
    the entries that name the person keep the time and the kind of change, not the text."""
    mentions = Q(object_repr__icontains=original_email) | Q(change_message__icontains=original_email)
    name = (user.full_name or "").strip()
    if len(name) >= 4:
        mentions |= Q(object_repr__icontains=name) | Q(change_message__icontains=name)
    return LogEntry.objects.filter(mentions).update(object_repr=pseudonym_name(user), change_message="")


def register() -> None:
    """Called from AccountsConfig.ready()."""
    exporters = [
        ("profile", export_profile, ["accounts.User"]),
        ("email_addresses", export_email_addresses, ["account.EmailAddress"]),
        ("authenticators", export_authenticators, ["mfa.Authenticator"]),
        ("social_accounts", export_social_accounts, ["socialaccount.SocialAccount"]),
        ("api_tokens", export_api_tokens, ["accounts.ApiToken"]),
        ("ssh_keys", export_ssh_keys, ["accounts.SshPublicKey"]),
        ("memberships", export_memberships, ["accounts.Membership"]),
        ("invitations_received", export_invitations_received, ["accounts.Invitation"]),
        ("invitations_sent", export_invitations_sent, ["accounts.Invitation"]),
        ("audit_events", export_audit_events, ["portal.AuditEvent", "portal.AuditEventContext"]),
    ]
    for name, func, covers in exporters:
        privacy_registry.register_exporter(name, func, covers=covers)
    privacy_registry.register_exporter("admin_actions", export_admin_actions, covers=["admin.LogEntry"], staff=True)
    erasers = [
        ("invitations", erase_invitations, ["accounts.Invitation"]),
        ("mail_limits", erase_addressed_mails, ["accounts.AddressedMail"]),
        ("api_tokens", erase_api_tokens, ["accounts.ApiToken"]),
        ("ssh_keys", erase_ssh_keys, ["accounts.SshPublicKey"]),
        # Confirmations and tokens go with their address and account (cascade).
        ("sign_in", erase_sign_in, ["account.EmailAddress", "account.EmailConfirmation", "mfa.Authenticator",
                                    "socialaccount.SocialAccount", "socialaccount.SocialToken"]),
        ("audit_context", erase_audit_context, ["portal.AuditEventContext"]),
        ("admin_log", erase_admin_log, ["admin.LogEntry"]),
    ]
    for name, func, covers in erasers:
        privacy_registry.register_eraser(name, func, covers=covers)


# --------------------------------------------------------------------------------- erasure

def user_erase(*, actor: User, user: User) -> User:
    """Pseudonymise a person everywhere. Idempotent."""
    if actor.pk != user.pk and not is_superuser(actor):
        raise PermissionDenied(_("Only the person themself or an administrator can erase an account."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.erased_at:
            return user
        original_email = user.email
        counts = {}
        # Every eraser runs while the user row still holds the name and address it looks for.
        for name, eraser in privacy_registry.erasers():
            counts[name] = eraser(user, original_email)
        user.email = pseudonym_email(user)
        user.full_name = pseudonym_name(user)
        user.is_active = False
        user.set_unusable_password()
        user.erased_at = timezone.now()
        user.save(update_fields=["email", "full_name", "is_active", "password", "erased_at"])
        audit_record(actor=actor, action=AuditAction.USER_ERASED, target=user,
                     changes={"counts": counts})
        # Again after the erasure event, so the address the erasure was requested from goes too.
        erase_audit_context(user, original_email)
    return user
