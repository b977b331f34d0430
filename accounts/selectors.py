"""Reads with permission scoping: objects a user may not see do not exist for them (404)."""

from django.http import Http404

from .models import Invitation, Membership, Organisation


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
