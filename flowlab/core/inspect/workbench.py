"""Explain this value: a value worked out step by step, with the bytes at each
stage: an S256 ``code_challenge`` (RFC 7636 §4.2), a JWK's thumbprint (RFC 7638
§3), ``at_hash`` and ``c_hash`` (OpenID Connect Core §3.1.3.6, §3.3.2.11), and a
Basic header decoded (RFC 6749 §2.3.1), its secret masked as the runner masks it.

Each function takes the form's fields and the texts of
``content/inspect/workbench.toml`` (``[values.<what>]``) and returns a ``Worked``.
Nothing is kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import unquote_plus

from flowlab.core.hosts import constant_time_equal
from flowlab.core.http import basic_credentials
from flowlab.core.http import s256
from flowlab.core.redact import mask
from flowlab.core.runner import jose

VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1
ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
        "ES512", "HS256", "HS384", "HS512")


@dataclass
class Worked:
    """A value worked out: ``steps`` are ``[label, value]`` pairs; ``verdict`` is
    ``(ok, sentence)`` when a pasted value was compared; ``notes`` and ``error``
    are sentences."""

    what: str
    steps: list[list[str]] = field(default_factory=list)
    wrong: list[list[str]] = field(default_factory=list)
    verdict: tuple[bool, str] | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def work_out(what: str, form, texts: dict) -> Worked | None:
    """The value ``what`` names, worked out from ``form``; None for no such value."""
    worker = WORKERS.get(what)
    return worker(form, texts["values"][what]) if worker else None


def challenge(form, texts: dict) -> Worked:
    """RFC 7636 §4.2 and Appendix B: ASCII bytes, SHA-256, base64url. The
    common wrong answers shown beside it, and a pasted challenge named."""
    verifier = form.get("verifier", "").strip()
    worked = Worked("s256")
    if not verifier.isascii() or not verifier:
        worked.error = texts["bad_verifier"]
        return worked
    if not VERIFIER.fullmatch(verifier):
        worked.notes.append(texts["bad_verifier"])
    raw = verifier.encode("ascii")
    digest = hashlib.sha256(raw).digest()
    right = s256(verifier)
    worked.steps = [
        [f"1. The verifier's ASCII bytes, {len(raw)} of them, in decimal",
         " ".join(str(b) for b in raw)],
        ["2. SHA-256 of those bytes: 32 bytes, in hex", digest.hex()],
        ["3. base64url of the 32 bytes, no padding: the code_challenge", right]]
    looks = {"hex_b64": jose.b64u(digest.hex().encode("ascii")),
             "std_b64": base64.b64encode(digest).decode("ascii"),
             "hex": digest.hex(), "plain": verifier}
    worked.wrong = [
        ["Wrong: base64url of the 64 hex characters", looks["hex_b64"]],
        ["Wrong: standard Base64 with padding", looks["std_b64"]]]
    pasted = form.get("challenge", "").strip()
    if pasted:
        if pasted == right:
            worked.verdict = (True, "The pasted challenge matches the S256 "
                              "challenge of this verifier.")
        else:
            kind = next((k for k, v in looks.items() if v == pasted), "none")
            worked.verdict = (False, "The pasted challenge does not match the "
                              "S256 challenge of this verifier. "
                              + texts["looks_like"][kind])
    return worked


def thumbprint(form, texts: dict) -> Worked:
    """RFC 7638 §3: required members only, sorted, no whitespace, SHA-256,
    base64url (``jose.thumbprint_steps``, the runner's own)."""
    worked = Worked("thumbprint")
    try:
        key = json.loads(form.get("jwk", ""))
        worked.steps = jose.thumbprint_steps(key)
    except (ValueError, KeyError, TypeError):
        worked.error = texts["bad_key"]
    return worked


def half_hash(what: str):
    """``at_hash`` or ``c_hash``: the value masked (it is a credential), then
    ``jose.half_hash_steps``; a pasted claim compared in constant time."""

    def work(form, texts: dict) -> Worked:
        worked = Worked(what)
        value = form.get("value", "").strip()
        alg = form.get("alg", "")
        steps = (jose.half_hash_steps(value, alg)
                 if alg in ALGS and value.isascii() and value else None)
        if steps is None:
            worked.error = texts["bad_alg"]
            return worked
        worked.steps = [[f"0. The value, masked: {len(value)} ASCII bytes",
                         mask(value)], *steps]
        claimed = form.get("claimed", "").strip()
        if claimed:
            ok = constant_time_equal(claimed, steps[-1][1])
            verb = "matches" if ok else "does not match"
            worked.verdict = (ok, f"The pasted {what} {verb} the one worked out "
                              "here.")
        return worked

    return work


def basic(form, texts: dict) -> Worked:
    """RFC 6749 §2.3.1 with RFC 7617 §2: Base64-decoded, split at the first
    colon, each side form-urldecoded; ``http.basic_credentials`` decides, and the
    secret is shown only masked (``redact.mask``)."""
    worked = Worked("basic")
    value = form.get("header", "").strip().removeprefix("Authorization:").strip()
    found = basic_credentials(value)
    if found is None:
        worked.error = texts["bad_header"]
        return worked
    client_id, secret = found
    decoded = base64.b64decode(value.partition(" ")[2].strip()).decode("utf-8")
    sent_id, _, sent_secret = decoded.partition(":")
    worked.steps = [
        ["1. The scheme, then Base64 (masked: it holds the secret)",
         f"Basic {mask(value.partition(' ')[2].strip())}"],
        ["2. Base64-decoded, split at the first colon",
         f"{sent_id} : {mask(sent_secret)}"],
        ["3. client_id, form-urldecoded", client_id],
        ["4. client_secret, form-urldecoded, masked", mask(secret)]]
    if unquote_plus(sent_id) != sent_id or unquote_plus(sent_secret) != sent_secret:
        worked.notes.append(texts["changed"])
    return worked


WORKERS = {"s256": challenge, "thumbprint": thumbprint,
           "at_hash": half_hash("at_hash"), "c_hash": half_hash("c_hash"),
           "basic": basic}
