"""The second factor: whether a person has one, and whether the current sign-in passed it.

Staff roles are granted only to a sign-in that passed a second factor (accounts.roles.roles_of asks
`mfa_satisfied`). What "passed" means depends on how the person reached the portal:

- a browser session: allauth's authentication records of the session hold a record with the method
  "mfa" (the TOTP or security-key step of the sign-in, a re-authentication with the second factor,
  the code typed to enrol an authenticator, or an identity provider's MFA assertion where the portal
  trusts it). StaffMFAMiddleware binds that answer to ``request.user`` on every request;
- an API token, and a user object no session carries (a Celery task, a management command, a shell):
  the person has an authenticator enrolled. A token skips the sign-in, so it stands for a second
  factor only while its holder has one (and a staff member's token without one is refused outright:
  accounts.api.permissions.StaffTokenMFA).
"""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.conf import settings

# Set on a user object by the middleware from the session: True or False. Absent on user objects no
# session carries (API tokens, tasks).
MFA_STATE_ATTRIBUTE = "_aif_mfa_verified"
# The `type` of the session's authentication record when the identity provider's MFA counts.
IDP_MFA_TYPE = "idp_acr"


def has_mfa(user) -> bool:
    """Whether the person has a second factor enrolled (an authenticator app or a security key)."""
    cached = getattr(user, "_aif_has_mfa", None)
    if cached is None:
        cached = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        user._aif_has_mfa = cached
    return cached


def session_passed_mfa(request, user) -> bool:
    """Whether this browser session's sign-in of `user` includes a second factor."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def bind_mfa_state(user, verified: bool) -> None:
    setattr(user, MFA_STATE_ATTRIBUTE, bool(verified))


def mfa_satisfied(user) -> bool:
    """Whether staff roles may be exercised by this user object (see the module's docstring)."""
    if not settings.AIF_REQUIRE_MFA_FOR_STAFF:
        return True
    state = getattr(user, MFA_STATE_ATTRIBUTE, None)
    if state is None:
        return has_mfa(user)
    return state


def record_enrolment(sender, request, user, authenticator, **kwargs) -> None:
    """allauth's `authenticator_added`: enrolling an authenticator app or a security key means proving
    it (a code from the app, a signature from the key), so the session counts as having passed it."""
    if request is not None and getattr(request, "session", None) is not None and user.is_authenticated:
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True)
        bind_mfa_state(user, True)


def idp_mfa_acr(sociallogin) -> str | None:
    """The acr of this single sign-on's ID token when the portal takes it as a second factor, else None.

    Only the ID token counts (its signature was checked), never the userinfo answer; only when
    AIF_TRUST_IDP_MFA is on and the acr is one of AIF_IDP_MFA_ACR_VALUES."""
    if not settings.AIF_TRUST_IDP_MFA:
        return None
    id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    acr = id_token.get("acr")
    if isinstance(acr, str) and acr in settings.AIF_IDP_MFA_ACR_VALUES:
        return acr
    return None


def record_idp_mfa(request, user, sociallogin) -> bool:
    """Record in the session that `user` passed a second factor at the identity provider, if trusted.

    The record is allauth's ({"method": "mfa", "type": "idp_acr", "acr": ..., "provider": ...}), which
    session_passed_mfa reads like any other second factor. Returns whether it was made."""
    acr = idp_mfa_acr(sociallogin)
    if acr is None:
        return False
    record_authentication(request, user, "mfa", type=IDP_MFA_TYPE, acr=acr, provider=sociallogin.account.provider)
    bind_mfa_state(user, True)
    return True
