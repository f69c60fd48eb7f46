"""DPoP at the pushed authorization request endpoint (RFC 9449 §10.1).

Instead of the ``dpop_jkt`` parameter, a client may send a DPoP proof with its
pushed request. The proof is checked as at the token endpoint (§4.3: ``htm``
POST, ``htu`` the PAR endpoint, ``iat``, a single-use ``jti``, and the server's
nonce, which §10.1 lets the PAR endpoint ask for with ``use_dpop_nonce``), before
the client authenticates, so a refusal or a nonce challenge uses up nothing. Its
key's thumbprint then binds the code as ``dpop_jkt`` would (``dpopbind.bind_code``);
sent both ways, the two must name the same key.
"""

from __future__ import annotations

from flowlab.sandbox import dpop
from flowlab.sandbox.dpopbind import InvalidDpopProof


def gate(conn, settings, secret: str, proofs: list[str], url: str) -> str | None:
    """The thumbprint of a pushed request's proof, or None without one (a proof
    is optional here, even where tokens need one). Raises
    :class:`dpop.ProofError`; where DPoP is off a proof is ignored."""
    if settings.dpop == "off" or not proofs:
        return None
    return dpop.check(conn, proofs, "POST", url, secret=secret,
                      mark=settings.token_prefix)


def bind(params: list[tuple[str, str]], jkt: str | None,
         request) -> list[tuple[str, str]]:
    """The pushed parameters with the proof's key as ``dpop_jkt``; a
    ``dpop_jkt`` naming another key is ``invalid_dpop_proof`` (§10.1)."""
    if jkt is None:
        return params
    asked = [value for name, value in params if name == "dpop_jkt"]
    if any(value != jkt for value in asked):
        raise InvalidDpopProof(description="dpop_jkt names another key than the"
                               " DPoP proof's (RFC 9449 §10.1)", request=request)
    return params if asked else [*params, ("dpop_jkt", jkt)]
