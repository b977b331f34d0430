from allauth.mfa.models import Authenticator

from .roles import is_staff_member


def has_mfa(user) -> bool:
    cached = getattr(user, "_aif_has_mfa", None)
    if cached is None:
        cached = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        user._aif_has_mfa = cached
    return cached


def staff_mfa_missing(user) -> bool:
    """True when a staff member (any staff role or admin access) has no second factor yet."""
    return is_staff_member(user) and not has_mfa(user)
