"""Wiring JWT access tokens (RFC 9068), resource indicators (RFC 8707) and token
exchange (RFC 8693) into an issuer's oauthlib server, as its profile says.

``SandboxServer`` calls :func:`access_tokens` for its token generator and
:func:`install` once its grants exist; :func:`metadata` adds the RFC 8414 fields.
"""

from __future__ import annotations

from flowlab.sandbox import exchange
from flowlab.sandbox import resources
from flowlab.sandbox.jwtat import AccessTokens


def access_tokens(validator, opaque):
    """The access-token generator: JWTs if the profile says so, else ``opaque``."""
    if validator.settings.access_tokens == "jwt":
        return AccessTokens(validator)
    return opaque


def install(validator, access, grants: dict, authorize: tuple) -> None:
    """Resource checks on the authorization grants (``authorize``) and the token
    grants, and the token exchange grant, where the profile has them."""
    settings = validator.settings
    if settings.resource_indicators and isinstance(access, AccessTokens):
        for grant in authorize:
            grant.custom_validators.pre_auth.append(resources.asked_at_authorize)
        for grant in grants.values():
            grant.custom_validators.pre_token.append(resources.asked_at_token)
            grant.custom_validators.post_token.append(access.target)
    if settings.token_exchange and isinstance(access, AccessTokens):
        grants[exchange.GRANT] = exchange.TokenExchangeGrant(validator)


def metadata(settings, issuer: str, claims: dict) -> dict:
    """RFC 8414 §2 fields of these features: ``jwks_uri`` for the tokens' keys,
    the token exchange grant among ``grant_types_supported``."""
    extra = {}
    if settings.access_tokens == "jwt":
        extra["jwks_uri"] = issuer + "/.well-known/jwks.json"
    if settings.token_exchange:
        extra["grant_types_supported"] = [*claims["grant_types_supported"],
                                          exchange.GRANT]
    return extra
