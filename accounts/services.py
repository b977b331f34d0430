"""Every write on people and organisations. Each function is one transaction with its audit event."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portal.audit import AuditAction, audit_record
from portal.emails import send_templated_email_on_commit
from portal.tasking import enqueue_on_commit

from .models import (
    AddressedMail,
    AddressedMailKind,
    ApiToken,
    ApiTokenScope,
    Invitation,
    Membership,
    MembershipRole,
    Organisation,
    SshPublicKey,
    User,
)
from .permissions import is_operator, is_owner
from .sshkeys import MAX_KEYS_PER_PERSON, parse_public_key
from .vat import normalise_vat

ORGANISATION_FIELDS = ["legal_name", "country", "org_type", "vat_number", "headcount", "annual_turnover",
                       "balance_sheet_total", "sectors"]


def _organisation_snapshot(org: Organisation) -> dict[str, Any]:
    return {field: getattr(org, field) for field in ORGANISATION_FIELDS} | {"sme_class": org.sme_class}


def _check_vat_unique(vat_number: str, exclude_pk: int | None = None) -> None:
    qs = Organisation.objects.filter(vat_number=vat_number)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"vat_number": _("An organisation with this number is already registered. "
                                               "Ask one of its owners to invite you.")})


def organisation_create(*, actor: User, data: dict[str, Any]) -> Organisation:
    """Register an organisation; the creator becomes its first owner."""
    data = dict(data)
    try:
        data["vat_number"] = normalise_vat(data.get("country", ""), data.get("vat_number", ""))
    except ValidationError as exc:
        raise ValidationError({"vat_number": exc.messages}) from exc
    with transaction.atomic():
        _check_vat_unique(data["vat_number"])
        org = Organisation(**{k: v for k, v in data.items() if k in ORGANISATION_FIELDS})
        org.full_clean()
        try:
            with transaction.atomic():
                org.save()
        except IntegrityError as exc:  # a concurrent registration of the same number
            raise ValidationError({"vat_number": _("An organisation with this number is already registered.")}) from exc
        Membership.objects.create(user=actor, organisation=org, role=MembershipRole.OWNER)
        audit_record(actor=actor, action=AuditAction.ORGANISATION_CREATED, target=org,
                     changes=_organisation_snapshot(org))
    return org


def organisation_update(*, actor: User, organisation: Organisation, data: dict[str, Any]) -> Organisation:
    if not is_owner(actor, organisation):
        raise PermissionDenied(_("Only an owner of the organisation can change it."))
    return _organisation_save(actor=actor, organisation=organisation, data=data)


def organisation_update_by_operator(*, actor: User, organisation: Organisation, data: dict[str, Any]) -> Organisation:
    """An operator corrects an organisation's details (the Django admin): the same checks, SME class and
    audit event as an owner's change."""
    if not is_operator(actor):
        raise PermissionDenied(_("Only an operator can change another organisation's details."))
    return _organisation_save(actor=actor, organisation=organisation, data=data)


def _organisation_save(*, actor: User, organisation: Organisation, data: dict[str, Any]) -> Organisation:
    data = dict(data)
    if "vat_number" in data or "country" in data:
        try:
            data["vat_number"] = normalise_vat(data.get("country", organisation.country),
                                               data.get("vat_number", organisation.vat_number))
        except ValidationError as exc:
            raise ValidationError({"vat_number": exc.messages}) from exc
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = _organisation_snapshot(org)
        for key, value in data.items():
            if key in ORGANISATION_FIELDS:
                setattr(org, key, value)
        _check_vat_unique(org.vat_number, exclude_pk=org.pk)
        org.full_clean(validate_unique=False)
        org.save()
        after = _organisation_snapshot(org)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changed:
            audit_record(actor=actor, action=AuditAction.ORGANISATION_UPDATED, target=org, changes=changed)
    return org


# ------------------------------------------------------------------------------------------ mail limits

def addressed_mail_record(*, organisation_id: int, kind: str, about: str, email: str, enforce: bool = True) -> None:
    """Count one message the portal is about to send on an organisation's behalf to an address one of its
    members typed, or refuse it (ValidationError on "email"): the portal is nobody's mail relay.

    - at most AIF_INVITE_MAILS_PER_DAY such messages per organisation in any 24 hours;
    - none to the same address about the same thing (`about`: the organisation invited to, the
      application whose team it is) within AIF_INVITE_MAIL_COOLDOWN_MINUTES, so that removing and adding
      a person again does not send again.
    Call in the transaction that sends the message: a refusal rolls the whole change back. `enforce=False`
    records without refusing (a manager's approval adding the members a change request named)."""
    # One organisation's messages are counted one at a time.
    Organisation.objects.select_for_update().filter(pk=organisation_id).first()
    now = timezone.now()
    digest = AddressedMail.hash_address(email)
    cooldown = timedelta(minutes=settings.AIF_INVITE_MAIL_COOLDOWN_MINUTES)
    if enforce:
        last = (AddressedMail.objects.filter(address_hash=digest, about=about, sent_at__gt=now - cooldown)
                .order_by("-sent_at").first())
        if last is not None:
            raise ValidationError({"email": _(
                "An e-mail went to this address less than %(minutes)s minutes ago. From %(time)s the portal can "
                "send it another one.") % {"minutes": settings.AIF_INVITE_MAIL_COOLDOWN_MINUTES,
                                         "time": _local_time(last.sent_at + cooldown)}})
        window = AddressedMail.objects.filter(organisation_id=organisation_id, sent_at__gt=now - timedelta(days=1))
        limit = settings.AIF_INVITE_MAILS_PER_DAY
        if window.count() >= limit:
            oldest = window.order_by("sent_at").values_list("sent_at", flat=True)[window.count() - limit]
            raise ValidationError({"email": _(
                "Your organisation had the portal send %(limit)s invitations and team confirmations in the last "
                "24 hours, the most it sends for one organisation. From %(time)s it can send the next one.") % {
                "limit": limit, "time": _local_time(oldest + timedelta(days=1))}})
    AddressedMail.objects.create(organisation_id=organisation_id, kind=kind, about=about, address_hash=digest,
                                 sent_at=now)
    # Nothing older than the longer of the two windows is read again.
    AddressedMail.objects.filter(sent_at__lt=now - max(cooldown, timedelta(days=1))).delete()


def _local_time(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def invitation_create(*, actor: User, organisation: Organisation, email: str,
                      role: str = MembershipRole.MEMBER) -> tuple[Invitation, str]:
    """Invite someone by e-mail. Returns the invitation and the one-time token sent to them."""
    if not is_owner(actor, organisation):
        raise PermissionDenied(_("Only an owner of the organisation can invite members."))
    email = email.strip().lower()
    if role not in MembershipRole.values:
        raise ValidationError({"role": _("Unknown role.")})
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member of the organisation.")})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        addressed_mail_record(organisation_id=organisation.pk, kind=AddressedMailKind.INVITATION,
                              about=f"accounts.organisation:{organisation.pk}", email=email)
        invitation = Invitation.objects.create(
            organisation=organisation, email=email, role=role, token_hash=Invitation.hash_token(token),
            invited_by=actor, expires_at=timezone.now() + timedelta(days=settings.AIF_INVITATION_DAYS),
        )
        audit_record(actor=actor, action=AuditAction.INVITATION_CREATED, target=invitation,
                     changes={"organisation_id": organisation.pk, "role": role})
        accept_url = settings.PORTAL_BASE_URL + reverse("accounts:invitation_accept", args=[token])
        send_templated_email_on_commit(
            to=[email], template="accounts/email/invitation",
            context={"organisation": organisation.legal_name, "inviter": actor.display_name,
                     "accept_url": accept_url, "role": MembershipRole(invitation.role).label,
                     "expires_at": invitation.expires_at},
        )
    return invitation, token


def invitation_accept(*, actor: User, token: str) -> Membership:
    token_hash = Invitation.hash_token(token)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash).first()
        if invitation is None or not invitation.is_open:
            raise ValidationError(_("This invitation is not valid any more. Ask for a new one."))
        if invitation.email.lower() != actor.email.lower():
            raise PermissionDenied(_("This invitation was sent to another e-mail address."))
        membership, created = Membership.objects.get_or_create(
            user=actor, organisation=invitation.organisation, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = actor
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(actor=actor, action=AuditAction.INVITATION_ACCEPTED, target=invitation,
                     changes={"organisation_id": invitation.organisation_id, "role": membership.role,
                              "membership_created": created})
    return membership


def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    if not is_owner(actor, invitation.organisation):
        raise PermissionDenied(_("Only an owner of the organisation can revoke invitations."))
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at or invitation.accepted_at:
            return invitation
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.INVITATION_REVOKED, target=invitation, changes={})
    return invitation


def _owner_count(organisation_id: int) -> int:
    return Membership.objects.filter(organisation_id=organisation_id, role=MembershipRole.OWNER).count()


def membership_set_role(*, actor: User, membership: Membership, role: str) -> Membership:
    if role not in MembershipRole.values:
        raise ValidationError({"role": _("Unknown role.")})
    with transaction.atomic():
        membership = (Membership.objects.select_for_update(of=("self",)).select_related("organisation")
                      .get(pk=membership.pk))
        if not is_owner(actor, membership.organisation):
            raise PermissionDenied(_("Only an owner of the organisation can change roles."))
        if membership.role == role:
            return membership
        # Lock the organisation's owner rows so two demotions cannot leave it with no owner.
        list(Membership.objects.select_for_update().filter(organisation_id=membership.organisation_id,
                                                           role=MembershipRole.OWNER))
        if membership.role == MembershipRole.OWNER and _owner_count(membership.organisation_id) <= 1:
            raise ValidationError(_("An organisation must keep at least one owner."))
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(actor=actor, action=AuditAction.MEMBERSHIP_ROLE_CHANGED, target=membership,
                     changes={"role": [old, role], "organisation_id": membership.organisation_id})
    return membership


def membership_remove(*, actor: User, membership: Membership) -> None:
    with transaction.atomic():
        membership = (Membership.objects.select_for_update(of=("self",)).select_related("organisation")
                      .get(pk=membership.pk))
        leaving_self = membership.user_id == actor.pk
        if not leaving_self and not is_owner(actor, membership.organisation):
            raise PermissionDenied(_("Only an owner of the organisation can remove members."))
        list(Membership.objects.select_for_update().filter(organisation_id=membership.organisation_id,
                                                           role=MembershipRole.OWNER))
        if membership.role == MembershipRole.OWNER and _owner_count(membership.organisation_id) <= 1:
            raise ValidationError(_("An organisation must keep at least one owner."))
        audit_record(actor=actor, action=AuditAction.MEMBERSHIP_REMOVED, target=membership,
                     changes={"organisation_id": membership.organisation_id, "user_id": membership.user_id})
        membership.delete()


# ------------------------------------------------------------------------------------------ API tokens

API_TOKEN_MAX_ACTIVE = 20
# Writing last_used_at on every request would turn each API read into a write; a minute is precise enough.
API_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def _new_api_token_secret() -> tuple[str, str]:
    """(prefix, secret). The secret is "aif_<prefix>_<random>"; the prefix finds the row."""
    prefix = secrets.token_hex(ApiToken.PREFIX_LENGTH // 2)
    return prefix, f"aif_{prefix}_{secrets.token_urlsafe(32)}"


def api_token_create(*, actor: User, name: str, scopes: list[str],
                     expires_at=None) -> tuple[ApiToken, str]:
    """Create a token for the actor. Returns the token and its secret, which is never stored nor shown again."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Name the token after the program that uses it.")
    elif len(name) > 100:
        errors["name"] = _("Use at most 100 characters.")
    scopes = sorted(set(scopes or []))
    if not scopes or any(s not in ApiTokenScope.values for s in scopes):
        errors["scopes"] = _("Choose read, or read and write.")
    elif ApiTokenScope.WRITE in scopes and ApiTokenScope.READ not in scopes:
        scopes = sorted([*scopes, ApiTokenScope.READ])
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Lock the user's row so two concurrent creations cannot both pass the limit.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        if ApiToken.objects.active().filter(user=actor).count() >= API_TOKEN_MAX_ACTIVE:
            raise ValidationError(_("You have %(n)s active tokens: revoke one first.") % {"n": API_TOKEN_MAX_ACTIVE})
        for _attempt in range(5):
            prefix, secret = _new_api_token_secret()
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        token = ApiToken.objects.create(user=actor, name=name, prefix=prefix, token_hash=ApiToken.hash_secret(secret),
                                        scopes=scopes, expires_at=expires_at)
        audit_record(actor=actor, action=AuditAction.API_TOKEN_CREATED, target=token,
                     changes={"name": name, "prefix": prefix, "scopes": scopes, "expires_at": expires_at})
    return token, secret


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's tokens. Idempotent."""
    if token.user_id != actor.pk:
        raise PermissionDenied(_("This token is not yours."))
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.API_TOKEN_REVOKED, target=token,
                     changes={"name": token.name, "prefix": token.prefix})
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record that the token was used: at most one write per token and minute, never audited."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < API_TOKEN_TOUCH_INTERVAL:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# ------------------------------------------------------------------------------------ SSH public keys

# Queued by name (portal.tasking): accounts imports no domain; the directory sites take the keys on.
PUSH_KEYS_TASK = "allocations.provisioning.identity.tasks.directory_push_keys_task"


def ssh_key_add(*, actor: User, text: str) -> SshPublicKey:
    """The person adds a public key for the clusters; a refused key is a ValidationError on ``key`` and
    nothing is stored. The directory entries bound to the person get it on commit."""
    if not getattr(actor, "is_authenticated", False) or actor.erased_at:
        raise PermissionDenied(_("Sign in to manage your SSH keys."))
    try:
        parsed = parse_public_key(text)
    except ValidationError as exc:
        raise ValidationError({"key": exc.messages}) from exc
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        if SshPublicKey.objects.filter(user=actor, fingerprint=parsed.fingerprint).exists():
            raise ValidationError({"key": _("You already added this key.")})
        if SshPublicKey.objects.filter(user=actor).count() >= MAX_KEYS_PER_PERSON:
            raise ValidationError({"key": _("You have %(count)s keys, the most a person may keep: remove one "
                                            "first.") % {"count": MAX_KEYS_PER_PERSON}})
        key = SshPublicKey.objects.create(user=actor, key_type=parsed.key_type, body=parsed.body,
                                          comment=parsed.comment, fingerprint=parsed.fingerprint)
        audit_record(actor=actor, action=AuditAction.SSH_KEY_ADDED, target=key,
                     changes={"fingerprint": key.fingerprint, "type": key.key_type})
        enqueue_on_commit(PUSH_KEYS_TASK, actor.pk)
    return key


def ssh_key_remove(*, actor: User, key: SshPublicKey) -> None:
    if key.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("This key is not yours."))
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.SSH_KEY_REMOVED, target=key,
                     changes={"fingerprint": key.fingerprint})
        key.delete()
        enqueue_on_commit(PUSH_KEYS_TASK, actor.pk)
