"""Single sign-on through an OpenID provider (MyAccessID for EuroHPC users).

allauth's `openid_connect` provider, with what a relying party must check and allauth leaves out:
the portal sends a nonce and checks it, verifies the ID token's signature against the provider's
JWKS even when the token came straight from the token endpoint, refuses unsigned and HMAC-signed
tokens, and refuses a userinfo answer about another subject. portal/settings.py installs
`provider.PortalOIDCProvider` in place of allauth's class (SOCIALACCOUNT_PROVIDERS "provider_class"),
which brings the login and callback views of `views.py` under the same URLs and names.
"""
