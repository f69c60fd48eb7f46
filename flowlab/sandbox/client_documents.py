"""OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document).

A ``client_id`` that is a URL names the client's own JSON metadata document (RFC
7591 §2 fields); the MCP authorization spec (2025-11-25) prefers it to registration.
An issuer with ``client_id_metadata_documents`` fetches the document through the
outbound rules (deadline, size cap, no redirects) — only from a loopback IP literal
and only for a requester on this machine, so the sandbox never fetches for another
machine — checks it (the draft's "Client Metadata"), and keeps the client as a
row of ``clients`` marked ``DOCUMENT_OWNER``, its ``created_at`` the time of the
fetch: codes, grants and tokens refer to that row as to any client's, and every
process sees the same copy, fetched again once it is ``CACHE_SECONDS`` old.
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlsplit

import requests
from sqlalchemy import Connection
from sqlalchemy import select

from flowlab.core import outbound
from flowlab.core.hosts import is_loopback_host
from flowlab.core.storage.db import upsert
from flowlab.core.storage.sandbox_tables import clients
from flowlab.sandbox.redirects import registration_problem
from flowlab.sandbox.store import DOCUMENT_OWNER
from flowlab.sandbox.store import Client
from flowlab.sandbox.store import digest
from flowlab.sandbox.store import get_client

DEADLINE = 2  # seconds for the whole document (the draft's security considerations)
MAX_BYTES = 5 * 1024  # the draft's example limit for a document
CACHE_SECONDS = 60  # a changed document is seen within a minute
GRANTS = ("authorization_code", "refresh_token")
METHODS = ("none", "private_key_jwt")  # no shared secrets in a document
DRAFT = "draft-ietf-oauth-client-id-metadata-document"


class Refused(Exception):
    """The document cannot make a client; the message says why, in plain words."""


def names_document(client_id: str | None) -> bool:
    """Whether ``client_id`` is a URL, so names a metadata document (the
    draft's "Client Identifier")."""
    return bool(client_id) and client_id.startswith(("https://", "http://"))


def metadata(settings, issuer: str) -> dict:
    """The RFC 8414 §2 field of an issuer that takes documents (the draft's
    "Authorization Server Metadata")."""
    if not settings.client_id_metadata_documents:
        return {}
    return {"client_id_metadata_document_supported": True}


def client(conn: Connection, settings, request, remote: str, refused) -> Client | None:
    """The client ``request.client_id`` names; None if unknown here. A URL is a
    document client only where the issuer takes documents; a document that cannot
    be used raises ``refused`` (an oauthlib error class) with the reason."""
    client_id = request.client_id
    if not names_document(client_id):
        return get_client(conn, client_id)
    if not settings.client_id_metadata_documents:
        return None  # as unknown as any id never registered (Spotify)
    row = conn.execute(select(clients.c.owner, clients.c.created_at)
                       .where(clients.c.client_id == client_id)).first()
    if row is not None and row.owner != DOCUMENT_OWNER:
        return get_client(conn, client_id)  # registered under that id
    try:
        check_url(client_id, remote)
        if row is None or row.created_at < time.time() - CACHE_SECONDS:
            keep(conn, client_id, fields(fetch(client_id), client_id))
    except Refused as exc:
        raise refused(description=str(exc), request=request) from None
    return get_client(conn, client_id)


def check_url(url: str, remote: str) -> None:
    """The URL's form (the draft's "Client Identifier") and the sandbox's
    fetching rule (issue 21)."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if parts.fragment or "#" in url or "@" in parts.netloc or parts.path in ("", "/") \
            or "." in segments or ".." in segments:
        raise Refused(f"A client ID that is a URL needs a path, and no fragment, "
                      f"user name or dot segments ({DRAFT}, 'Client Identifier').")
    if not is_loopback_host(parts.hostname):
        raise Refused("This sandbox fetches client metadata documents only from a "
                      "loopback IP literal (http://127.0.0.1:PORT/…), not from "
                      f"{parts.hostname}: it fetches nothing on the network.")
    if remote != "back-channel" and not is_loopback_host(remote):
        raise Refused("Client metadata documents are fetched only for requests from "
                      "this machine, the one that runs the lab; a request from "
                      "another machine makes the sandbox fetch nothing.")


def fetch(url: str) -> dict:
    """GET the document under the outbound rules; its JSON object."""
    http = outbound.session(MAX_BYTES)
    try:
        with outbound.limits(DEADLINE):
            response = http.get(url, headers={"Accept": "application/json"})
    except outbound.DeadlinePassed:
        raise Refused(f"The client's metadata document at {url} did not come in time "
                      f"({DEADLINE} seconds).") from None
    except outbound.Refused:
        raise Refused(f"The client's metadata document at {url} is larger than "
                      f"{MAX_BYTES // 1024} KB (or nested too deeply), so the "
                      "sandbox stopped reading it.") from None
    except requests.RequestException:
        raise Refused(f"The client's metadata document at {url} could not be "
                      "fetched (nothing answered, or it redirected).") from None
    if response.status_code != 200:
        raise Refused(f"The client's metadata document at {url} answered "
                      f"{response.status_code}, not 200.")
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise Refused(f"What {url} sent is not a JSON object, so not a client "
                      f"metadata document ({DRAFT}, 'Client Metadata').")
    return document


def fields(document: dict, url: str) -> dict:
    """The client a valid document describes, as a row of ``clients`` (the
    draft's "Client Metadata")."""
    if document.get("client_id") != url:
        raise Refused(f"The document at {url} does not name this URL as its "
                      f"client_id ({DRAFT}: exactly the URL it came from).")
    method = document.get("token_endpoint_auth_method", "none")
    if str(method).startswith("client_secret") or "client_secret" in document:
        raise Refused("A client metadata document carries no shared secret: "
                      "token_endpoint_auth_method must be none or private_key_jwt, "
                      f"and client_secret is not allowed ({DRAFT}, 'Client Metadata').")
    if method not in METHODS:
        raise Refused("token_endpoint_auth_method must be none or private_key_jwt.")
    if method == "private_key_jwt" and not (document.get("jwks")
                                            or document.get("jwks_uri")):
        raise Refused("A private_key_jwt client needs its public keys: jwks or "
                      "jwks_uri in its document (RFC 7591 §2).")
    uris = document.get("redirect_uris")
    problems = [registration_problem(uri) if isinstance(uri, str) else "not text"
                for uri in uris] if isinstance(uris, list) and uris else ["none given"]
    if any(problems):
        raise Refused("The document's redirect_uris must list one or more redirect "
                      f"URIs: {next(p for p in problems if p)}")
    grants = document.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or not set(grants) <= set(GRANTS) \
            or "authorization_code" not in grants:
        raise Refused("grant_types may name authorization_code and refresh_token.")
    name = document.get("client_name")
    confidential = method == "private_key_jwt"
    return dict(
        name=name.strip()[:100] if isinstance(name, str) and name.strip() else url,
        confidential=confidential,
        # A secret nobody knows: a document client never authenticates with one.
        secret_hash=digest(secrets.token_urlsafe(32)) if confidential else None,
        secret_salt=None, response_types="code", grant_types=" ".join(grants),
        redirect_uris="\n".join(uris), auth_method=method,
        # private_key_jwt: its keys, as a registration keeps them (RFC 7591 §2).
        jwks=json.dumps(document["jwks"]) if document.get("jwks") else None,
        jwks_uri=document.get("jwks_uri"))


def keep(conn: Connection, client_id: str, values: dict) -> None:
    """Insert or refresh the document's client, dated now."""
    values = {**values, "owner": DOCUMENT_OWNER, "created_at": time.time()}
    upsert(conn, clients, {"client_id": client_id, **values}, ("client_id",),
           lambda new: {name: new[name] for name in values})
