"""The portal's login stages (allauth), named by AccountAdapter.get_login_stages."""

from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage

from .mfa import record_idp_mfa


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's second-factor stage, which a single sign-on whose ID token attests MFA satisfies.

    Whenever that is not the case (AIF_TRUST_IDP_MFA off, another acr, a password sign-in), allauth's
    stage runs unchanged: a user with an authenticator is asked for a code, social sign-in or not."""

    def handle(self) -> tuple:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        user = self.login.user
        if sociallogin is not None and user is not None and record_idp_mfa(self.request, user, sociallogin):
            return None, True
        return super().handle()
