"""ID token validation, as OpenID Connect Core 1.0 (3.1.3.7) asks of a client using the code flow."""

from __future__ import annotations

import hmac

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error

# Asymmetric signatures only: "none" and the HMAC family (keyed with the client secret) are refused.
SIGNING_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
})
# How far the portal's clock may be from the provider's when checking exp and iat.
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]


def fetch_jwks(jwks_uri: str) -> dict:
    """The provider's public keys, fetched over the network on each sign-in (keys may rotate)."""
    with get_adapter().get_requests_session() as session:
        response = session.get(jwks_uri)
        response.raise_for_status()
        return response.json()


def signing_key(token: str, jwks: dict) -> jwt.PyJWK:
    """The key of `jwks` that the token's header names, for an algorithm the portal accepts."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise OAuth2Error("ID token is not a JWT") from exc
    algorithm = header.get("alg")
    if algorithm not in SIGNING_ALGORITHMS:
        raise OAuth2Error(f"ID token signed with a refused algorithm: {algorithm!r}")
    candidates = [key for key in jwks.get("keys", []) if key.get("use", "sig") == "sig"]
    if kid := header.get("kid"):
        candidates = [key for key in candidates if key.get("kid") == kid]
    if len(candidates) != 1:
        raise OAuth2Error(f"no single key of the provider's JWKS matches the ID token (kid {header.get('kid')!r})")
    try:
        key = jwt.PyJWK(candidates[0], algorithm=algorithm)
    except jwt.PyJWTError as exc:
        raise OAuth2Error("the provider's key does not fit the ID token's algorithm") from exc
    if candidates[0].get("alg", algorithm) != algorithm:
        raise OAuth2Error("the ID token's algorithm is not the one of the provider's key")
    return key


def verify_id_token(token: str, *, jwks: dict, issuer: str, client_id: str, nonce: str | None) -> dict:
    """The claims of a valid ID token; OAuth2Error (allauth shows its sign-in error page) otherwise.

    Checks: the signature against the provider's key, the issuer, the audience (and azp when there
    are several audiences), expiry and issue time, and the nonce the portal sent with this sign-in."""
    key = signing_key(token, jwks)
    try:
        claims = jwt.decode(
            token, key=key, algorithms=[key.algorithm_name], audience=client_id, issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS, options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise OAuth2Error(f"invalid ID token: {exc}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise OAuth2Error("ID token issued to another party (azp)")
    token_nonce = claims.get("nonce")
    if not nonce or not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
        raise OAuth2Error("ID token nonce does not match this sign-in")
    return claims
