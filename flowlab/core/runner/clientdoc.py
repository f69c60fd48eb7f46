"""The MCP agent's client ID metadata document (draft-ietf-oauth-client-id-metadata-
document, "Client Metadata"), and the agent made known by it: the MCP authorization
spec's (2025-11-25, "Client Registration") first choice where the server's RFC 8414
metadata says ``client_id_metadata_document_supported``, with dynamic registration
(RFC 7591) as the fallback.

The lab serves the document at ``PATH`` on its own origin (``web/runner.py``); its
``client_id`` is that URL and its one redirect URI the runner's callback there. The
draft asks for an https URL; the sandbox fetches only loopback IP literals, for this
machine, so the lab's own ``http://127.0.0.1:…`` address is the one it can use.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flowlab.core.demo import CALLBACK_PATH
from flowlab.core.hosts import is_loopback_host
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.wellknown import origin

PATH = "/run/mcp/client-metadata.json"
SUPPORTED = "client_id_metadata_document_supported"  # the draft's RFC 8414 field


def document(url_root: str, content) -> dict:
    """The document served at ``url_root`` + ``PATH``: its own URL as
    ``client_id`` (the draft's "Client Identifier"), the callback on the same
    origin, and the RFC 7591 §2 fields of ``[client_document]`` in the MCP flow's
    TOML."""
    base = url_root.rstrip("/")
    return {"client_id": base + PATH,
            **content.data("flows/mcp")["client_document"],
            "redirect_uris": [base + CALLBACK_PATH]}


def url_beside(redirect_uri: str) -> str | None:
    """The document's URL on the run's callback origin, when the server can fetch
    it there (a loopback IP literal) and it lists that callback; else None."""
    parts = urlsplit(redirect_uri)
    if parts.path != CALLBACK_PATH or not is_loopback_host(parts.hostname):
        return None
    return origin(redirect_uri) + PATH


def make_known(run, step, ctx, send, note, fallback) -> dict:
    """Step: the agent's ``client_id`` is its document's URL where the server
    takes documents; it reads the document as the server will, on the wire. Else
    ``fallback`` (registration), the outcome saying why."""
    state = run.secrets["mcp"]
    where = url_beside(ctx.redirect_uri)
    why = ("not-offered" if state["server_metadata"].get(SUPPORTED) is not True
           else "not-loopback" if where is None else None)
    if why:
        return fallback(run, step, ctx) | {"outcome": why}
    record, answer = send(ctx, "GET", where, headers={"Accept": "application/json"})
    if answer is None:
        return record
    if answer.status_code != 200 or as_json(answer).get("client_id") != where:
        return record | {"error": step.get("errors", {}).get("not-served",
                                                              "not-served")}
    state["client_id"] = where
    return record | {"outcome": "document",
                     "notes": note(step, [["client_id", where]])}
