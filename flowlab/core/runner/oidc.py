"""What a real-world provider did, told: the granted scope against the asked one
(RFC 6749 §3.3), a missing refresh token (§5.1), an ID token decoded and verified
(OpenID Connect Core §3.1.3.7), and error codes (RFC 6749 §4.1.2.1, §5.2).

Explanations come from ``content/interop.toml``; a note is ``{title, text, facts}``,
where ``facts`` are ``[label, value]`` pairs the page shows escaped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

import jwt

from flowlab.core.hosts import constant_time_equal

LEEWAY = 30  # seconds of clock difference tolerated on exp (OIDC Core §3.1.3.7)


@dataclass(frozen=True)
class Notes:
    """The texts of ``content/interop.toml``, loaded with the flows (each ``Flow``
    carries them to its steps): notes by key, error codes explained, and the API
    paths a userinfo endpoint serves. Empty by default, for flows built by hand in
    unit tests of the engine."""

    notes: Mapping = field(default_factory=dict)
    errors: Mapping = field(default_factory=dict)
    profile_paths: tuple[str, ...] = ()

    @classmethod
    def from_content(cls, content) -> Notes:
        texts = content.data("interop")
        return cls(texts["notes"], texts["errors"], tuple(texts["profile_paths"]))


def note(notes: Notes, key: str, facts: list | None = None,
         why: str | None = None) -> dict:
    """The note ``key`` of the content, with its facts and an optional reason."""
    entry = notes.notes[key]
    text = entry["text"] + ("\n" + entry["why"][why] if why else "")
    return {"key": key, "title": entry["title"], "text": text, "facts": facts or []}


def error_notes(notes: Notes, code: str | None) -> list[dict]:
    """The explanation of an OAuth error code, if the content knows it."""
    entry = notes.errors.get(code or "")
    return [{"key": code, "title": entry["title"], "text": entry["text"],
             "facts": []}] if entry else []


def scope_notes(notes: Notes, asked: str | None,
                granted: str | None) -> list[dict]:
    """Notes on a granted scope that differs from the asked one (RFC 6749 §3.3);
    an absent ``scope`` in the answer means "as asked" (§5.1)."""
    if not asked or granted is None:
        return []
    want, got = asked.split(), granted.split()
    if want == got:
        return []
    dropped = [s for s in want if s not in got]
    added = [s for s in got if s not in want]
    kind = ("reordered" if not dropped and not added else "narrowed" if not added
            else "widened" if not dropped else "changed")
    facts = [["Asked for", asked], ["Granted", granted or "(nothing)"]]
    facts += [["Dropped", " ".join(dropped)]] if dropped else []
    facts += [["Added", " ".join(added)]] if added else []
    told = [note(notes, "scope-" + kind, facts)]
    if "offline_access" in dropped:
        told.append(note(notes, "offline-access-dropped"))
    return told


def refresh_absent(notes: Notes, asked: str | None, granted: str | None) -> dict:
    """Why no refresh token came back, and what to ask for instead."""
    want = (asked or "").split()
    got = want if granted is None else granted.split()
    why = ("offline-access-dropped" if "offline_access" in want
           and "offline_access" not in got
           else "no-offline-access" if "openid" in want
           and "offline_access" not in want else "policy")
    return note(notes, "refresh-none", [["Scope asked for", asked or "(none)"],
                                        ["Scope granted", " ".join(got) or "(none)"]],
                why)


def verify_id_token(token: str, jwks: dict | None, issuer: str | None,
                    client_id: str, nonce: str | None) -> dict:
    """Decode an ID token and check it (OIDC Core §3.1.3.7): signature against the
    provider's JWK set, then ``iss``, ``aud``, ``exp`` and ``nonce``."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    checks = [_signature(token, header, jwks)]
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    exp = claims.get("exp")
    sent = claims.get("nonce")
    checks += [
        _check("iss", claims.get("iss") == issuer and issuer is not None,
               f"{claims.get('iss')!r}, expected {issuer!r}"),
        _check("aud", client_id in audiences, f"{aud!r}, expected to hold "
               f"{client_id!r}"),
        _check("exp", isinstance(exp, int | float) and exp > time.time() - LEEWAY,
               f"{exp!r}, now {int(time.time())}"),
        _check("nonce", bool(nonce) and isinstance(sent, str)
               and constant_time_equal(sent, nonce),
               "matches the one sent" if sent and nonce and sent == nonce
               else f"{sent!r} does not match the one sent"),
    ]
    return {"header": header, "claims": claims, "checks": checks,
            "valid": all(c["ok"] for c in checks)}


def _check(name: str, ok: bool, detail: str) -> dict:
    return {"name": name, "ok": bool(ok), "detail": detail}


def _signature(token: str, header: dict, jwks: dict | None) -> dict:
    """The signature, checked with the key the header's ``kid`` names; only the
    key's own algorithm is accepted (never ``none`` or a MAC with a public key)."""
    try:
        keys = jwt.PyJWKSet.from_dict(jwks or {}).keys
    except jwt.PyJWTError as exc:
        return _check("signature", False, f"no usable key set: {exc}")
    matching = [k for k in keys if k.key_id == header.get("kid")] or (
        keys if len(keys) == 1 and not header.get("kid") else [])
    if not matching:
        return _check("signature", False, f"no key with kid {header.get('kid')!r}")
    key = matching[0]
    try:
        jwt.decode(token, key.key, algorithms=[key.algorithm_name],
                   options={"verify_aud": False, "verify_iss": False,
                            "verify_exp": False, "verify_iat": False,
                            "verify_nbf": False})
    except jwt.PyJWTError as exc:
        return _check("signature", False, f"{type(exc).__name__}: {exc}")
    return _check("signature", True, f"{key.algorithm_name} with key "
                  f"{key.key_id!r} from the jwks_uri")


def userinfo_serves(provider, step: dict, notes: Notes) -> bool:
    """Whether an API step reading the user's profile goes to the provider's
    userinfo endpoint (OIDC Core §5.3): an OpenID provider with no API base URL."""
    return (step.get("action") == "api" and not provider.api_base
            and bool(provider.userinfo_url)
            and step.get("path") in notes.profile_paths)


def scope_text(value) -> str | None:
    """A scope as its space-separated text, whether oauthlib holds a list or not."""
    if value is None:
        return None
    return value if isinstance(value, str) else " ".join(value)
