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
from flowlab.core.runner import jose

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
                    client_id: str, nonce: str | None,
                    access_token: str | None = None) -> dict:
    """Decode an ID token and check it in the order of OpenID Connect Core 1.0
    (errata set 2) §3.1.3.7: the header's ``alg``, the key its ``kid`` names in the
    provider's JWK set, the signature, then ``iss``, ``aud``, ``exp``, ``nonce``, and
    ``at_hash`` against the access token that came with it (§3.1.3.8)."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    alg = header.get("alg")
    key, key_check = _key(header, jwks)
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    exp = claims.get("exp")
    sent = claims.get("nonce")
    same = bool(nonce) and isinstance(sent, str) and constant_time_equal(sent, nonce)
    checks = [
        _check("header", alg in ASYMMETRIC, f"alg {alg!r}: " + (
            "signed with a public key pair" if alg in ASYMMETRIC else
            "not a public-key signature the app can check"), "§3.1.3.7, §2"),
        key_check,
        _signature(token, key),
        _check("iss", claims.get("iss") == issuer and issuer is not None,
               f"{claims.get('iss')!r}, expected {issuer!r}", "§3.1.3.7"),
        _check("aud", audiences == [client_id], f"{aud!r}, expected "
               f"{client_id!r} and no audience the app does not trust", "§3.1.3.7"),
        _check("exp", isinstance(exp, int | float) and exp > time.time() - LEEWAY,
               f"{exp!r}, now {int(time.time())}", "§3.1.3.7"),
        _check("nonce", same, "matches the one sent" if same
               else f"{sent!r} does not match the one sent", "§3.1.3.7, §15.5.2"),
        _at_hash(claims.get("at_hash"), alg, access_token),
    ]
    return {"header": header, "claims": claims, "checks": checks,
            "valid": all(c["ok"] for c in checks)}


# JWS algorithms with a public key (RFC 7518 §3.1); never "none", never a MAC here.
ASYMMETRIC = {"RS256": "sha256", "RS384": "sha384", "RS512": "sha512",
              "PS256": "sha256", "PS384": "sha384", "PS512": "sha512",
              "ES256": "sha256", "ES384": "sha384", "ES512": "sha512"}


def _check(name: str, ok: bool, detail: str, section: str,
           skipped: bool = False) -> dict:
    return {"name": name, "ok": bool(ok), "detail": detail,
            "section": "OpenID Connect Core " + section, "skipped": skipped}


def _key(header: dict, jwks: dict | None) -> tuple:
    """The key of the provider's set that the header's ``kid`` names (§10.1.1: a
    ``kid`` picks among several keys, so a rotated-in key just works)."""
    kid = header.get("kid")
    try:
        keys = jwt.PyJWKSet.from_dict(jwks or {}).keys
    except jwt.PyJWTError as exc:
        return None, _check("kid", False, f"no usable key set: {exc}", "§10.1.1")
    matching = [k for k in keys if k.key_id == kid] or (
        keys if len(keys) == 1 and not kid else [])
    if not matching:
        return None, _check("kid", False, f"no key with kid {kid!r} in the "
                            "jwks_uri's set", "§10.1.1")
    key = matching[0]
    return key, _check("kid", True, f"{kid!r}: a {key.key_type} key of the "
                       f"jwks_uri's {len(keys)}", "§10.1.1")


def _signature(token: str, key) -> dict:
    """The signature, checked with the named key; only that key's own algorithm is
    accepted (never ``none`` or a MAC with a public key)."""
    if key is None:
        return _check("signature", False, "no key to check it with", "§3.1.3.7")
    try:
        jwt.decode(token, key.key, algorithms=[key.algorithm_name],
                   options={"verify_aud": False, "verify_iss": False,
                            "verify_exp": False, "verify_iat": False,
                            "verify_nbf": False})
    except jwt.PyJWTError as exc:
        return _check("signature", False, f"{type(exc).__name__}: {exc}",
                      "§3.1.3.7")
    return _check("signature", True, f"{key.algorithm_name} with key "
                  f"{key.key_id!r} from the jwks_uri", "§3.1.3.7")


def _at_hash(claimed, alg: str | None, access_token: str | None) -> dict:
    """``at_hash``: base64url of the left half of the access token's hash, by the
    header's alg (§3.1.3.6, checked as §3.1.3.8 says); optional in the code flow."""
    if claimed is None:
        return _check("at_hash", True, "not in the token: optional when the ID "
                      "token comes from the token endpoint", "§3.1.3.8", True)
    name = ASYMMETRIC.get(alg or "")
    if not name or not access_token:
        return _check("at_hash", False, "no access token or hash to compare with",
                      "§3.1.3.8")
    half = jose.half_hash_steps(access_token, alg)[-1][1]
    ok = isinstance(claimed, str) and constant_time_equal(claimed, half)
    return _check("at_hash", ok, f"{name.upper()} of the access token, left half, "
                  f"base64url: {half}" + ("" if ok else
                                          f", not {claimed!r}"), "§3.1.3.8")


def userinfo_serves(provider, step: dict, notes: Notes) -> bool:
    """Whether an API step goes to the provider's userinfo endpoint (OIDC Core
    §5.3): it names that endpoint of the discovered configuration, or it reads the
    user's profile at an OpenID provider with no API base URL."""
    return step.get("action") == "api" and (
        step.get("endpoint") == "userinfo_endpoint"
        or (not provider.api_base and bool(provider.userinfo_url)
            and step.get("path") in notes.profile_paths))


def api_url(provider, step: dict, notes: Notes, discovered: dict, path: str) -> str:
    """Where an API step goes: the endpoint it names (a discovery step found it),
    the userinfo endpoint standing in for the API, or the API base and ``path``."""
    if step.get("endpoint"):
        return discovered.get(step["endpoint"]) or provider.userinfo_url or ""
    if userinfo_serves(provider, step, notes):
        return provider.userinfo_url
    return provider.api_base + path


def scope_text(value) -> str | None:
    """A scope as its space-separated text, whether oauthlib holds a list or not."""
    if value is None:
        return None
    return value if isinstance(value, str) else " ".join(value)
