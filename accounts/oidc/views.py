"""The login and callback views of the portal's OpenID Connect provider (see the package docstring)."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404, HttpRequest

from .id_token import fetch_jwks, verify_id_token


class PortalOIDCAdapter(OpenIDConnectOAuth2Adapter):
    # The state stashed when the sign-in started (PKCE verifier, nonce); set by the callback view.
    state: dict | None = None

    def complete_login(self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs):
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise OAuth2Error("the token response has no ID token")
        config = self.openid_config
        claims = verify_id_token(id_token, jwks=fetch_jwks(config["jwks_uri"]), issuer=config["issuer"],
                                 client_id=app.client_id, nonce=(self.state or {}).get("nonce"))
        data = {"id_token": claims}
        if app.settings.get("fetch_userinfo", True):
            userinfo = self._fetch_user_info(token.token)
            # OpenID Connect Core 5.3.2: the userinfo answer must be about the ID token's subject.
            if str(userinfo.get("sub")) != str(claims["sub"]):
                raise OAuth2Error("the userinfo answer is about another subject than the ID token")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)


class PortalOIDCCallbackView(OAuth2CallbackView):
    def _get_state(self, request: HttpRequest, provider):
        # allauth hands the state to the login only after complete_login; the nonce check needs it before.
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response


@login_not_required
def login(request: HttpRequest, provider_id: str):
    try:
        return OAuth2LoginView.adapter_view(PortalOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request: HttpRequest, provider_id: str):
    try:
        return PortalOIDCCallbackView.adapter_view(PortalOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
