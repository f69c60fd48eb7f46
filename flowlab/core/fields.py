"""Where a message's fields are: its query parameters, and its body read by content
type (a form, or JSON flattened to dotted paths), so each can be annotated."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl
from urllib.parse import urlsplit


def query_pairs(target: str) -> list[tuple[str, str]]:
    """The query parameters of a request target (``/path?a=b``)."""
    if "?" not in target:
        return []
    return parse_qsl(urlsplit(target).query, keep_blank_values=True)


class FormView:
    """``application/x-www-form-urlencoded`` bodies (RFC 6749 §4.1.3 token requests)."""

    where = "form"

    @staticmethod
    def pairs(body: str) -> list[tuple[str, str]]:
        return parse_qsl(body, keep_blank_values=True)


class JsonView:
    """JSON bodies, flattened to dotted paths (``error.status``, ``images[].url``)."""

    where = "json"

    @classmethod
    def pairs(cls, body: str) -> list[tuple[str, str]]:
        try:
            data = json.loads(body)
        except ValueError:
            return []
        return list(cls._walk(data, ""))

    @classmethod
    def _walk(cls, value, path: str):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from cls._walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                yield from cls._walk(item, f"{path}[]")
        else:
            yield path, json.dumps(value) if not isinstance(value, str) else value


BODY_VIEWS = {
    "application/x-www-form-urlencoded": FormView,
    "application/json": JsonView,
}
