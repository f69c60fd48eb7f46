"""The shape of a run's JSON export (``har.to_json``, "flowlab-run" version 1), as
data, and the one function that checks a parsed file against it.

A shape is a Python type (``str``, ``int``, ``bool``, ``NUMBER``), a tuple of the
strings allowed, ``Optional(shape)`` (null allowed), ``ListOf(shape, most)``,
``PAIRS`` (a list of two strings: headers, parameters), ``STRINGS`` (an object of
strings), ``ANY`` (plain JSON, bounded)
or a ``Record``: a JSON object with these keys only, each optional unless
``required`` names it. Every string is bounded (``Record.longest`` or ``TEXT``), so
a file cannot hide a megabyte in one field; unknown keys are refused by name, except
in a step's ``data``, where keys this lab does not read are dropped (``lenient``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

TEXT = 8192  # the longest string in general
BODY = 512 * 1024  # a message body
NAME = 200  # ids, titles, names
DEEPEST = 12  # nesting of plain JSON (``ANY``)
NUMBER = (int, float)


class Refused(ValueError):
    """The file is not what it claims; the message names where and why."""


@dataclass(frozen=True)
class Optional:
    shape: object


@dataclass(frozen=True)
class ListOf:
    shape: object
    most: int = 200
    name: str = ""  # its items are called "<name> 1", "<name> 2"... where refused
    exact: bool = False  # exactly ``most`` items (a pair)


@dataclass(frozen=True)
class Record:
    keys: dict
    required: tuple[str, ...] = ()
    longest: dict = field(default_factory=dict)  # key: its longest string
    lenient: bool = False  # unknown keys dropped rather than refused


PAIRS = ListOf(ListOf(str, 2, exact=True), 500)
ANY = object()
STRINGS = object()  # an object of strings: names to values
URL = Optional(str)

MESSAGE = Record({"start_line": str, "headers": PAIRS, "body": str,
                  "body_encoding": ("base64",)}, required=("start_line",),
                 longest={"body": BODY})
EXCHANGE = Record({"request": MESSAGE, "response": Optional(MESSAGE),
                   "error": Optional(str), "note": Optional(str), "url": str,
                   "started": NUMBER, "elapsed_ms": NUMBER}, required=("request",))
DATA = Record({"url": str, "params": PAIRS,
               "pkce": Record({"verifier": str, "sha256": str, "challenge": str}),
               "device": Record({"user_code": str, "verification_uri": str,
                                 "verification_uri_complete": URL,
                                 "expires_in": NUMBER, "interval": NUMBER},
                                required=("user_code", "verification_uri"),
                                lenient=True),
               "browser": Record({"origin": str, "target": str, "cross_origin": bool,
                                  "cors": PAIRS}),
               "id_token": Record({"header": ANY, "claims": ANY, "valid": bool,
                                   "checks": ListOf(Record({
                                       "name": str, "ok": bool, "detail": str,
                                       "section": str, "skipped": bool}))}),
               "tries": int,
               "user_returned": bool}, lenient=True)
STEP = Record({"number": int, "id": str, "title": str,
               "status": ("done", "failed", "pending"), "error": Optional(str),
               "at": str, "data": DATA, "exchanges": ListOf(EXCHANGE, 100)},
              required=("id", "status", "exchanges"),
              longest={"id": NAME, "title": NAME, "at": NAME})
PROVIDER = Record({
    "kind": ("sandbox", "spotify", "discovered"), "name": str, "issuer": URL,
    "iss_supported": bool, "authorize_url": str, "token_url": str, "api_base": URL,
    "clients": STRINGS, "sandbox_path": URL, "expire_url": URL,
    "device_authorization_url": URL, "grant_revocation": bool,
    "grant_types": Optional(ListOf(str)), "response_types": Optional(ListOf(str)),
    "pkce_methods": Optional(ListOf(str)), "extensions": Optional(ListOf(str)),
    "scope": Optional(str), "refused": STRINGS,
    "jwks_uri": URL, "userinfo_url": URL, "callback_path": URL, "openid": bool,
    "introspection_url": URL, "revocation_url": URL,
}, required=("kind",), longest={"name": NAME})
EXPORT = Record({
    "format": str, "version": int, "secrets": ("masked", "included"),
    "addresses": str,
    "run": Record({"id": str, "status": ("active", "finished", "stopped"),
                   "created": str}, required=("id",), longest={"id": NAME}),
    "flow": Record({"id": str, "name": str, "client": str}, required=("id",),
                   longest={"id": NAME, "name": NAME}),
    "provider": PROVIDER,
    "options": Record({"spa": bool, "pkce": bool, "wrap_up": bool,
                       "variant": str}),
    "steps": ListOf(STEP, 100, "step"),
}, required=("format", "version", "run", "flow", "provider", "steps"))


def check(value, shape, where: str, longest: int = TEXT, depth: int = 0):
    """``value`` if it has ``shape`` (a ``Record``'s unknown keys dropped when it
    is lenient), else ``Refused`` naming ``where`` it went wrong."""
    if isinstance(shape, Optional):
        return None if value is None else check(value, shape.shape, where, longest)
    if isinstance(shape, Record):
        return _record(value, shape, where)
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            raise Refused(f"{where} should be a list.")
        if len(value) > shape.most:
            raise Refused(f"{where} has {len(value)} items, more than {shape.most}.")
        if shape.exact and len(value) != shape.most:
            raise Refused(f"{where} should have {shape.most} items.")
        return [check(item, shape.shape, f"{shape.name} {n}" if shape.name
                      else f"{where} › {n}", longest)
                for n, item in enumerate(value, 1)]
    if shape is ANY:
        return _plain(value, where, depth)
    if shape is STRINGS:
        if not isinstance(value, dict) or len(value) > 50:
            raise Refused(f"{where} should be an object of a few strings.")
        return {check(k, str, where, NAME): check(v, str, f"{where} › {k[:40]}")
                for k, v in value.items()}
    if isinstance(shape, tuple) and all(isinstance(s, str) for s in shape):
        if value not in shape:
            raise Refused(f"{where} is {str(value)[:40]!r}, not one of "
                          f"{', '.join(shape)}.")
        return value
    if isinstance(value, bool) and shape is not bool or not isinstance(value, shape):
        raise Refused(f"{where} should be {_word(shape)}.")
    if isinstance(value, str) and len(value) > longest:
        raise Refused(f"{where} is too long ({len(value)} characters, at most "
                      f"{longest}).")
    return value


def _record(value, shape: Record, where: str) -> dict:
    if not isinstance(value, dict):
        raise Refused(f"{where} should be an object.")
    unknown = sorted(set(value) - set(shape.keys))
    if unknown and not shape.lenient:
        raise Refused(f"{where} has a key this lab does not know: "
                      f"{unknown[0][:40]!r}.")
    missing = [key for key in shape.required if key not in value]
    if missing:
        raise Refused(f"{where} lacks {missing[0]!r}.")
    return {key: check(item, shape.keys[key], f"{where} › {key}",
                       shape.longest.get(key, TEXT))
            for key, item in value.items() if key in shape.keys}


def _plain(value, where: str, depth: int):
    """Plain JSON, bounded: no string over ``TEXT``, no deeper than ``DEEPEST``."""
    if depth > DEEPEST:
        raise Refused(f"{where} is nested too deep.")
    if isinstance(value, dict):
        return {check(k, str, where, NAME): _plain(v, f"{where} › {k[:40]}",
                                                   depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > ListOf.most:
            raise Refused(f"{where} has more than {ListOf.most} items.")
        return [_plain(v, where, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return check(value, str, where)


def _word(shape) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false",
            NUMBER: "a number"}.get(shape, "something else")
