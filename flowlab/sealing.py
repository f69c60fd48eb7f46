"""Secrets sealed for one browser: AES-GCM under a key that only the browser holds.

Each browser gets a random 256-bit key in its own HttpOnly cookie. The server never
stores that key: it derives the AES-GCM key from it with HKDF (salted with the app's
secret key) when a request brings the cookie, and keeps only nonce + ciphertext. So
the database alone, or a copy of it, reveals no client secret and no token, and any
process or machine that shares the database can open them for that browser.

The associated data names the row and the browser: a sealed value copied into
another row, or offered by another browser, does not open.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask
from flask import current_app
from flask import g
from flask import request

COOKIE = "flowlab_key"
KEY_BYTES = 32
NONCE_BYTES = 12  # 96-bit random nonces, as AES-GCM recommends (NIST SP 800-38D)
INFO = b"flowlab sealed secrets v1"


def init_app(app: Flask) -> None:
    app.after_request(_set_cookie)


def cookie_name() -> str:
    """``__Host-flowlab_key`` over https: Secure, this host only, path /."""
    return "__Host-" + COOKIE if _secure() else COOKIE


def browser_key(create: bool = False) -> bytes | None:
    """This browser's key from its cookie; a new one (sent back) if asked to."""
    if "flowlab_key" not in g:
        g.flowlab_key = _decode(request.cookies.get(cookie_name(), ""))
    if g.flowlab_key is None and create:
        g.flowlab_key = g.flowlab_new_key = os.urandom(KEY_BYTES)
    return g.flowlab_key


def seal(key: bytes, value, aad: str) -> bytes:
    """``value`` as JSON, encrypted and authenticated: nonce + ciphertext + tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(key).encrypt(nonce, json.dumps(value).encode(), aad.encode())


def unseal(key: bytes | None, sealed: bytes | None, aad: str):
    """The value, or None when the key, the row or the browser is not the one."""
    if key is None or not sealed or len(sealed) <= NONCE_BYTES:
        return None
    try:
        data = _aead(key).decrypt(sealed[:NONCE_BYTES], bytes(sealed[NONCE_BYTES:]),
                                  aad.encode())
    except InvalidTag:
        return None
    return json.loads(data)


def _aead(key: bytes) -> AESGCM:
    salt = str(current_app.config["SECRET_KEY"]).encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO)
    return AESGCM(hkdf.derive(key))


def _decode(text: str) -> bytes | None:
    try:
        key = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def _secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _set_cookie(response):
    key = g.pop("flowlab_new_key", None)
    if key is not None:  # a browser cookie (no expiry): gone when the browser closes
        response.set_cookie(
            cookie_name(), base64.urlsafe_b64encode(key).decode().rstrip("="),
            path="/", secure=_secure(), httponly=True, samesite="Lax")
    return response
