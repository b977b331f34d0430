"""Reads with permission scoping: objects a user may not see do not exist for them (404)."""

import hmac

from django.db.models import OuterRef, Subquery
from django.http import Http404

from .models import (
    ApiToken,
    Invitation,
    Membership,
    Notification,
    NotificationPreference,
    Organisation,
    SshPublicKey,
    User,
)
from .roles import ROLE_GROUPS, staff_mfa_missing


def member_organisation_ids(user):
    """The ids of the user's organisations, as a subquery for `organisation_id__in`."""
    return Membership.objects.filter(user=user).values("organisation_id")


def organisations_for(user):
    return Organisation.objects.visible_to(user).order_by("legal_name")


def organisation_for_member(user, pk: int) -> Organisation:
    org = Organisation.objects.visible_to(user).filter(pk=pk).first()
    if org is None:
        raise Http404
    return org


def organisation_members(organisation):
    return Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__email")


def organisation_open_invitations(organisation):
    return Invitation.objects.filter(organisation=organisation, accepted_at=None, revoked_at=None)


def membership_in_organisation(organisation, pk: int) -> Membership:
    membership = Membership.objects.select_related("user", "organisation").filter(
        organisation=organisation, pk=pk).first()
    if membership is None:
        raise Http404
    return membership


def invitation_in_organisation(organisation, pk: int) -> Invitation:
    invitation = Invitation.objects.filter(organisation=organisation, pk=pk).first()
    if invitation is None:
        raise Http404
    return invitation


def ssh_keys_of(user):
    return SshPublicKey.objects.filter(user=user).order_by("added_at", "pk")


def ssh_key_of(user, pk: int) -> SshPublicKey:
    key = SshPublicKey.objects.filter(user=user, pk=pk).first()
    if key is None:
        raise Http404
    return key


def api_tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_of(user, pk: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404
    return token


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its user, in one query; None for anything else."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != "aif" or len(parts[1]) != ApiToken.PREFIX_LENGTH:
        return None
    token = ApiToken.objects.active().select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, ApiToken.hash_secret(secret)):
        return None
    return token


def organisations_with_role(user):
    """The user's organisations, each annotated with `my_role` (one query for a whole page)."""
    role = Membership.objects.filter(organisation=OuterRef("pk"), user=user).values("role")[:1]
    return Organisation.objects.filter(memberships__user=user).annotate(my_role=Subquery(role))


def organisation_with_role(user, pk: int) -> Organisation:
    org = organisations_with_role(user).filter(pk=pk).first()
    if org is None:
        raise Http404
    return org


def users_with_role(role: str):
    """The active, not erased people who hold a staff role (its group)."""
    return (User.objects.filter(is_active=True, erased_at=None, groups__name=ROLE_GROUPS[role])
            .distinct().order_by("pk"))


# --- notifications ---------------------------------------------------------------------------------


def _readable_notifications(user):
    """A person's notifications. They hand staff work and name other organisations' applications: a staff
    member whose sign-in has not passed the second factor reads none of them (accounts.roles)."""
    if staff_mfa_missing(user):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def notifications_of(user):
    """A person's notifications, newest first."""
    return _readable_notifications(user).order_by("-created_at", "-pk")


def notification_of(user, pk: int) -> Notification:
    """Someone else's notification does not exist for this person (404)."""
    notification = _readable_notifications(user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    return notification


def unread_notification_count(user) -> int:
    return _readable_notifications(user).filter(read_at=None).count()


def notification_preference_of(user) -> NotificationPreference | None:
    return NotificationPreference.objects.filter(user=user).first()
