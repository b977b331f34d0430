"""Cluster identities: SSH public keys and confirmed team members with a sign-in identity."""

from __future__ import annotations

import base64
import os
import struct

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.utils import timezone

from allocations.applications.models import TeamMember

from .accounts import UserFactory


def ssh_key_line(comment: str = "laptop", key_type: str = "ssh-ed25519") -> str:
    """A well-formed public key line with a random body."""
    def field(value: bytes) -> bytes:
        return struct.pack(">I", len(value)) + value
    blob = field(key_type.encode()) + field(os.urandom(32))
    return f"{key_type} {base64.b64encode(blob).decode()} {comment}".strip()


def confirmed_member(allocation, *, email: str, username: str, subject: str = "", verified: bool = True,
                     full_name: str = "Team Member") -> TeamMember:
    """A person with a sign-in (a verified address, an OIDC subject if given) confirmed on the team."""
    user = UserFactory(email=email, full_name=full_name, verified_email=False)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    if subject:
        SocialAccount.objects.create(user=user, provider=settings.OIDC_PROVIDER_ID, uid=subject)
    return TeamMember.objects.create(application=allocation.application, full_name=full_name, email=email,
                                     cluster_username=username, user=user, invited_at=timezone.now(),
                                     confirmed_at=timezone.now())
