"""The ``dpop_bound_access_tokens`` client metadata (RFC 9449 §5.2).

A client registers ``true`` to say it always uses DPoP for token requests; "If
the value is true, the authorization server MUST reject token requests from the
client that do not contain the DPoP header" (§5.2). §5.2 names no error code: the
refusal is ``invalid_dpop_proof``, as where the issuer itself requires DPoP (FAPI
2.0). It comes right after client authentication (the validator's
``validate_grant_type``, which every grant calls before it looks at a code or
refresh token), so it consumes nothing. The value is checked at registration
(``clientreg``) and kept with the rest of the registered metadata
(``clients.registered``).
"""

from __future__ import annotations

import json

from flowlab.sandbox.dpopbind import InvalidDpopProof
from flowlab.sandbox.dpopbind import jkt_of

NAME = "dpop_bound_access_tokens"


def always(client) -> bool:
    """Whether the client registered ``dpop_bound_access_tokens: true``."""
    metadata = getattr(client, "registered", None)
    return bool(metadata) and json.loads(metadata).get(NAME) is True


def require_proof(client, request) -> None:
    """Refuse a token request without a proof from a client that said it always
    sends one (§5.2)."""
    if always(client) and not jkt_of(request):
        raise InvalidDpopProof(description="This client registered"
                               f" {NAME}: send a DPoP proof (RFC 9449 §5.2)",
                               request=request)
