"""Secrets sealed for one browser: AES-GCM under a key that only the browser holds.

Each browser gets a random 256-bit key in its own HttpOnly cookie (the web side's
``flowlab.web.session``). The server never stores that key: it derives the AES-GCM
key from it with HKDF (salted with the app's secret key) when a request brings the
cookie, and keeps only nonce + ciphertext. So the database alone, or a copy of it,
reveals no client secret and no token, and any process or machine that shares the
database can open them for that browser.

The associated data names the row and the browser: a sealed value copied into
another row, or offered by another browser, does not open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from flowlab.core import vault

KEY_BYTES = 32
NONCE_BYTES = 12  # 96-bit random nonces, as AES-GCM recommends (NIST SP 800-38D)
INFO = b"flowlab sealed secrets v1"


def seal(key: bytes, value, aad: str, salt: str) -> bytes:
    """``value`` as JSON, encrypted and authenticated: nonce + ciphertext + tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(key, salt).encrypt(nonce, json.dumps(value).encode(),
                                            aad.encode())


def unseal(key: bytes | None, sealed: bytes | None, aad: str, salt: str):
    """The value, or None when the key, the row or the browser is not the one."""
    if key is None or not sealed or len(sealed) <= NONCE_BYTES:
        return None
    try:
        data = _aead(key, salt).decrypt(sealed[:NONCE_BYTES],
                                        bytes(sealed[NONCE_BYTES:]), aad.encode())
    except InvalidTag:
        return None
    return json.loads(data)


def _aead(key: bytes, salt: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=str(salt).encode(),
                info=INFO)
    return AESGCM(hkdf.derive(key))


class SecretBox:
    """One browser's sealed values and their rows in the shared database
    (``flowlab.core.vault``). ``key`` is the browser's key, None while it has none;
    ``new_key`` makes one (and hands it to the browser) when a value is sealed."""

    def __init__(self, browser: str, key: bytes | None, salt: str,
                 new_key: Callable[[], bytes] | None = None) -> None:
        self.browser = browser
        self._key = key
        self._salt = salt
        self._new_key = new_key

    def seal(self, value, aad: str) -> bytes:
        if self._key is None:
            if self._new_key is None:
                raise LookupError("This browser has no key to seal its secrets with.")
            self._key = self._new_key()
        return seal(self._key, value, aad, self._salt)

    def unseal(self, sealed: bytes | None, aad: str):
        return unseal(self._key, sealed, aad, self._salt)

    def put_run(self, run: str, value: dict) -> None:
        """Keep a real provider's run secrets, sealed for this browser."""
        vault.put_sealed(run, self.browser,
                         self.seal(value, f"run {run} {self.browser}"))

    def get_run(self, run: str) -> dict | None:
        return self.unseal(vault.get_sealed(run, self.browser),
                           f"run {run} {self.browser}")

    def __repr__(self) -> str:  # never show a key or a browser in a log
        return "<SecretBox of one browser>"
