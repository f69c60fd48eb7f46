"""HAR 1.2, which browsers' developer tools open, and the JSON transcript."""

from __future__ import annotations

import json

from flowlab.core.exports._common import CREATOR
from flowlab.core.exports._common import FORM
from flowlab.core.exports._common import _exchanges
from flowlab.core.exports._common import _heading
from flowlab.core.exports._common import _iso
from flowlab.core.exports._common import _steps
from flowlab.core.exports._common import published
from flowlab.core.exports._common import secure
from flowlab.core.fields import FormView
from flowlab.core.fields import query_pairs
from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.publicurl import Addresses
from flowlab.core.redact import Redactor

SUBSTITUTED = (" Wherever a captured message named the private address (URLs, Host "
               "headers, links in bodies), this one names the public address; a "
               "Content-Length follows a body that changed. The rest is as captured.")


def to_json(run, flow, redact: Redactor, where: Addresses | None = None) -> str:
    """The run as JSON: flow, provider, and each step with its exchanges."""
    run, note = published(run, where)
    redact = secure(run, redact)
    provider = {k: v for k, v in run.provider.to_json().items()
                if "secret" not in k.lower()}
    # How the start page chose to run it (PKCE off, as a single-page app, a
    # variant such as the MCP agent's metadata document), and
    # whether its end added the introspect-and-revoke steps: an import needs it
    # to find the flow's steps (``importer``).
    chosen = {k: v for k, v in run.options.items()
              if k in ("pkce", "spa", "wrap_up", "variant")}
    document = {
        "format": "flowlab-run", "version": 1,
        "secrets": "included" if redact.reveal else "masked",
        **({"addresses": note + SUBSTITUTED} if note else {}),
        "run": {"id": run.id, "status": run.status, "created": _iso(run.created)},
        "flow": {"id": flow.id, "name": flow.name, "client": flow.client},
        **({"options": chosen} if chosen else {}),
        "provider": provider,
        "steps": [{"number": n, "id": record.id, "title": step["title"],
                   "status": record.status, "error": record.error,
                   "at": _iso(record.at), "data": record.data,
                   "exchanges": [e.to_dict() for e in _exchanges(record)]}
                  for n, step, record in _steps(run, flow)],
    }
    return json.dumps(redact.deep(document), indent=2, ensure_ascii=False) + "\n"




def har(run, flow, redact: Redactor, where: Addresses | None = None) -> str:
    """An HTTP Archive 1.2 of every captured exchange, one page per step.

    The callback request has no response in the transcript: the browser sent it to
    the app, which captured only the request. Its entry gets ``status`` 0 with empty
    headers, as browsers write requests that got no response, and a comment saying
    why; Chromium's and Firefox's importers accept that. A record, not a replay: only
    the private back-channel address gives way to the public one, as the comment says.
    """
    run, note = published(run, where)
    redact = secure(run, redact)
    pages, entries = [], []
    for number, step, record in _steps(run, flow):
        exchanges = _exchanges(record)
        if not exchanges:
            continue
        page = f"step_{number}"
        title = f"Step {number}: {step['title']}"
        pages.append({"startedDateTime": _iso(exchanges[0].started or record.at),
                      "id": page, "title": title,
                      "pageTimings": {"onContentLoad": -1, "onLoad": -1}})
        entries += [_har_entry(e, page, title) for e in exchanges]
    log = {"version": "1.2", "creator": CREATOR, "pages": pages, "entries": entries,
           "comment": f"OAuth Flow Lab: {_heading(run, flow)}. Secrets and tokens "
                      + ("included." if redact.reveal else "masked.")
                      + (f" {note}{SUBSTITUTED}" if note else "")}
    return json.dumps({"log": redact.deep(log)}, indent=2, ensure_ascii=False) + "\n"


def _har_entry(exchange: Exchange, page: str, title: str) -> dict:
    elapsed = max(exchange.elapsed_ms, 0) if exchange.response else 0
    response = (_har_response(exchange.response) if exchange.response
                else _har_no_response(exchange))
    return {"pageref": page, "startedDateTime": _iso(exchange.started),
            "time": elapsed, "request": _har_request(exchange),
            "response": response, "cache": {},
            "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
                        "send": 0, "wait": elapsed, "receive": 0},
            "comment": title}


def _har_request(exchange: Exchange) -> dict:
    message = exchange.request
    start = message.start
    version = start.version or "HTTP/1.1"
    request = {"method": start.method, "url": _url(exchange), "httpVersion": version,
               "cookies": _cookies(message.header("Cookie") or ""),
               "headers": _pairs(message.headers),
               "queryString": _pairs(query_pairs(message.start.target)),
               "headersSize": _head_size(message),
               "bodySize": len(message.body)}
    if message.body:
        params = FormView.pairs(message.text) if message.media_type == FORM else []
        request["postData"] = {"mimeType": message.header("Content-Type") or "",
                               "params": _pairs(params), "text": message.text}
    return request


def _har_response(message: Message) -> dict:
    start = message.start
    encoded = message.header("Content-Encoding")
    cookies = [c for k, v in message.headers if k.lower() == "set-cookie"
               for c in _cookies(v.split(";", 1)[0])]
    return {"status": start.status, "statusText": start.reason,
            "httpVersion": start.version, "cookies": cookies,
            "headers": _pairs(message.headers),
            "content": _content(message),
            "redirectURL": message.header("Location") or "",
            "headersSize": _head_size(message),
            "bodySize": -1 if encoded else len(message.body)}


def _content(message: Message) -> dict:
    """The response body (HAR 1.2 ``content``): text, or base64 if not UTF-8."""
    stored = message.to_json()
    content = {"size": len(message.body),
               "mimeType": message.header("Content-Type") or "x-unknown",
               "text": stored["body"]}
    if "body_encoding" in stored:
        content["encoding"] = stored["body_encoding"]
    return content


def _har_no_response(exchange: Exchange) -> dict:
    why = exchange.error or exchange.note or (
        "No response recorded: the browser sent this request to the app, which "
        "captured the request only.")
    return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [],
            "headers": [], "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "", "headersSize": -1, "bodySize": -1, "comment": why}


def _pairs(pairs) -> list[dict]:
    return [{"name": k, "value": v} for k, v in pairs]


def _cookies(header: str) -> list[dict]:
    found = []
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            found.append({"name": name, "value": value})
    return found


def _head_size(message: Message) -> int:
    """Bytes from the start line to the blank line after the headers."""
    head = message.start_line + "\r\n" + "".join(f"{k}: {v}\r\n"
                                                  for k, v in message.headers)
    return len((head + "\r\n").encode())


def _url(exchange: Exchange) -> str:
    """The absolute URL of the request: as captured, else from Host and target."""
    target = exchange.request.start.target
    if exchange.url or target.startswith(("http://", "https://")):
        return exchange.url or target
    return f"http://{exchange.request.header('Host') or 'localhost'}{target}"
