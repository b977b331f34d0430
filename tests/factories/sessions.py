"""Signed-in test clients and the second factor.

Django's ``Client.force_login`` stands for a completed sign-in. allauth signs a person who has an
authenticator in only after the second factor, and records it in the session; `install` makes
``force_login`` record it the same way, so a staff member with an authenticator gets the session a real
sign-in gives them. `sign_in_without_second_factor` gives the session of a sign-in that stopped at the
password (or an identity provider that asserted no MFA): staff roles must not hold in it."""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from allauth.account.internal.userkit import user_id_to_str
from allauth.mfa.models import Authenticator
from django.test import Client

_force_login = Client.force_login


def _record_methods(client: Client, user, methods: list[str]) -> None:
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": method, "at": now} for method in methods]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
    session.save()


def _force_login_as_allauth_would(self: Client, user, backend=None) -> None:
    _force_login(self, user, backend)
    enrolled = Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]).exists()
    _record_methods(self, user, ["password", "mfa"] if enrolled else ["password"])


def install() -> None:
    Client.force_login = _force_login_as_allauth_would


def sign_in_without_second_factor(client: Client, user) -> None:
    """A session whose sign-in passed the password only, whatever the person has enrolled."""
    _force_login(client, user)
    _record_methods(client, user, ["password"])
