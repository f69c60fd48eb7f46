"""TOML parsed once, kept beside ``content/`` as Python keeps bytecode.

tomllib is pure Python: start-up spent about a tenth of its time parsing the same
~130 TOML texts (data files, pages' front matter) on every launch. Each parsed text
is kept, marshalled, under the SHA-256 of the text itself, so an edited file is just
another key and a stale answer cannot be served. The cache is read once per
process and written by ``save()`` (after ``create_app``) when something new was
parsed: whole, to a new file renamed into place. A cache that cannot be read or
written is not used.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import tomllib
from pathlib import Path

from flowlab.core import ROOT

FILE = ROOT / "content" / "__pycache__" / f"toml.{sys.implementation.cache_tag}.marshal"
KEEP = 1000  # texts kept that this process did not read (other content folders)
_kept: dict[bytes, bytes] | None = None
_used: set[bytes] = set()
_new = False


def read(path: Path) -> dict:
    """``tomllib.loads`` of a file's text (UTF-8, universal newlines)."""
    return loads(path.read_text(encoding="utf-8"))


def loads(text: str) -> dict:
    """``tomllib.loads(text)``, from the cache when this text was parsed before."""
    global _new
    key = hashlib.sha256(text.encode("utf-8")).digest()
    kept = _cache()
    _used.add(key)
    try:
        return marshal.loads(kept[key])  # a fresh copy: callers may change it
    except (KeyError, EOFError, ValueError, TypeError):
        pass
    data = tomllib.loads(text)
    try:
        kept[key] = marshal.dumps(data)
    except ValueError:  # a date or time: marshal keeps only plain types
        return data
    _new = True
    return data


def save() -> None:
    """Write the cache if this process parsed anything new."""
    global _new
    if not _new:
        return
    kept = _cache()
    if len(kept) > len(_used) + KEEP:
        kept = {key: kept[key] for key in _used if key in kept}
    written = None
    try:
        FILE.parent.mkdir(exist_ok=True)
        fd, written = tempfile.mkstemp(dir=FILE.parent, prefix=".toml-")
        with os.fdopen(fd, "wb") as f:
            marshal.dump(kept, f)
        os.replace(written, FILE)
        _new = False
    except OSError:
        if written and os.path.exists(written):
            os.unlink(written)


def _cache() -> dict[bytes, bytes]:
    global _kept
    if _kept is None:
        try:
            _kept = marshal.loads(FILE.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            _kept = {}
        if not isinstance(_kept, dict):
            _kept = {}
    return _kept
