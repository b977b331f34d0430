"""Personal data: export everything the portal holds about a person, and erase them.

Every app, this one included, contributes what it holds through portal.privacy's `register_exporter` /
`register_eraser`, called from its AppConfig.ready(). Erasure pseudonymises: rows stay (they are
evidence for audits), the person's identifying details go. Audit events hold only the actor's id, so
the chain still verifies."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import privacy as privacy_registry
from portal.audit import AuditAction, action_label, audit_record
from portal.models import AuditEvent, AuditEventContext

from .models import ApiToken, Invitation, Membership, User
from .roles import is_superuser


def pseudonym_email(user: User) -> str:
    return f"erased-{user.pk}@erased.invalid"


def erase_invitations(user: User, original_email: str) -> int:
    """Invitations sent to the person's address keep their row (who invited whom, when), not the address."""
    return Invitation.objects.filter(email__iexact=original_email).update(email=pseudonym_email(user))


def erase_api_tokens(user: User, original_email: str) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]


def user_export_data(*, user: User) -> dict[str, Any]:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": user.pk, "email": user.email, "full_name": user.full_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user)
        ],
        "authenticators": [
            {"type": a.type, "created_at": a.created_at.isoformat()}
            for a in Authenticator.objects.filter(user=user)
        ],
        "api_tokens": [
            {"name": t.name, "prefix": t.prefix, "scopes": t.scopes, "created_at": t.created_at.isoformat(),
             "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
             "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
            for t in ApiToken.objects.filter(user=user)
        ],
        "memberships": [
            {"organisation": m.organisation.legal_name, "organisation_id": m.organisation_id, "role": m.role,
             "joined_at": m.joined_at.isoformat()}
            for m in Membership.objects.filter(user=user).select_related("organisation")
        ],
        "invitations_received": [
            {"organisation_id": i.organisation_id, "created_at": i.created_at.isoformat(),
             "accepted_at": i.accepted_at.isoformat() if i.accepted_at else None}
            for i in Invitation.objects.filter(email__iexact=user.email)
        ],
        "audit_events": [
            {"seq": e.seq, "created_at": e.created_at.isoformat(), "action": e.action,
             "action_label": str(action_label(e.action)), "object_type": e.object_type, "object_id": e.object_id}
            for e in AuditEvent.objects.filter(actor_id=user.pk).order_by("seq")
        ],
    }
    for name, exporter in privacy_registry.exporters():
        data[name] = exporter(user)
    return data


def user_erase(*, actor: User, user: User) -> User:
    """Pseudonymise a person everywhere. Idempotent."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    if actor.pk != user.pk and not is_superuser(actor):
        raise PermissionDenied(_("Only the person themself or an administrator can erase an account."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.erased_at:
            return user
        original_email = user.email
        pseudonym = pseudonym_email(user)
        counts = {}
        for name, eraser in privacy_registry.erasers():
            counts[name] = eraser(user, original_email)
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        SocialAccount.objects.filter(user=user).delete()
        user.email = pseudonym
        user.full_name = _("Erased user #%(id)s") % {"id": user.pk}
        user.is_active = False
        user.set_unusable_password()
        user.erased_at = timezone.now()
        user.save(update_fields=["email", "full_name", "is_active", "password", "erased_at"])
        audit_record(actor=actor, action=AuditAction.USER_ERASED, target=user,
                     changes={"counts": counts})
        # After the erasure event, so the address the erasure was requested from goes too.
        AuditEventContext.objects.filter(event__actor_id=user.pk).update(ip_address=None)
    return user
