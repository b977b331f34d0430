"""The portal's OpenID Connect provider class: allauth's, with a nonce and the views of `views.py`."""

from __future__ import annotations

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest
from django.utils.crypto import get_random_string

from .views import PortalOIDCAdapter

NONCE_LENGTH = 32


class PortalOIDCProvider(OpenIDConnectProvider):
    # allauth builds the provider's URLs from `<package>.urls`.
    package = "accounts.oidc"
    oauth2_adapter_class = PortalOIDCAdapter

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        """Send a fresh nonce with the authorization request and keep it in this sign-in's state."""
        nonce = get_random_string(NONCE_LENGTH)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}  # last: a request cannot choose the nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


provider_classes = [PortalOIDCProvider]
