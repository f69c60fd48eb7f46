"""A branch of a run: one step's request, edited, sent again from that step.

The branch is a run of its own (``runs.parent`` names the run it came from): it
starts with copies of the original's records before the step and of its secrets,
so the original is never written to. A back-channel request is sent here, through
the same wire capture and outbound limits as every step (``capture``,
``flowlab.core.outbound``); a front-channel one (the authorization request) is
the browser's to send, and the redirect back is taken by the branch as any run's
is (``engine.receive_redirect``: ``state`` checked). The request goes only to the
endpoint the step used, on the provider's own scheme, host and port.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import requests
from sqlalchemy import update

from flowlab.core import destinations
from flowlab.core import outbound
from flowlab.core.http import Message
from flowlab.core.provider import Provider
from flowlab.core.runner import engine
from flowlab.core.runner import store
from flowlab.core.runner.answers import as_json
from flowlab.core.runner.answers import transport_error
from flowlab.core.runner.beside import code_of
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of
from flowlab.core.runner.edits import EditError
from flowlab.core.runner.edits import Row
from flowlab.core.runner.edits import fill
from flowlab.core.runner.edits import request_parts
from flowlab.core.runner.flows import Flow
from flowlab.core.runner.store import Run
from flowlab.core.storage.tables import runs

ENDPOINTS = ("authorize_url", "token_url", "device_authorization_url", "expire_url",
             "userinfo_url")
FRONT_SECRETS = ("redirect_uri", "verifier", "nonce")


@dataclass(frozen=True)
class Sent:
    """A step's request as it was sent: from the browser (``front``) or here."""

    number: int
    channel: str
    message: Message
    url: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def sent(run: Run, number: int) -> Sent | None:
    """The request step ``number`` (from 1) sent, if it sent one: the authorization
    URL, or the last request it made on the back channel."""
    if not 0 < number <= len(run.steps):
        return None
    record = run.steps[number - 1]
    requests_ = [e for e in record.exchanges if e.get("request")]
    if record.data.get("url") and not requests_:
        url = record.data["url"]
        return Sent(number, "front", Message(f"GET {url} HTTP/1.1"), url)
    if not requests_ or record.data.get("params"):  # the browser's way back
        return None
    return Sent(number, "back", Message.from_json(requests_[-1]["request"]),
                requests_[-1]["url"])


def destination(provider: Provider, used: Sent, path: str) -> str:
    """The URL to send to: the endpoint the step used, on the provider's own
    scheme, host and port as this process reaches it; ``path`` may name another
    of its endpoints, or any path under its API base, and nothing else."""
    here = [url for url in (*(getattr(provider, n) for n in ENDPOINTS),
                            provider.api_base) if url]
    used_path = used.path
    base = next((u for u in here if urlsplit(u).path == used_path), None) or next(
        (u for u in here if u == provider.api_base
         and used_path.startswith(urlsplit(u).path + "/")), None)
    if base is None:
        raise EditError("This step's endpoint is not one of the provider's.")
    origin = urlsplit(base)
    allowed = [urlsplit(u).path for u in here if urlsplit(u)[:2] == origin[:2]]
    if path in allowed:
        return urlunsplit((origin.scheme, origin.netloc, path, "", ""))
    try:  # a path under the API base, on this endpoint's origin
        return destinations.join(f"{origin.scheme}://{origin.netloc}", path,
                                 provider.api_base or "")
    except destinations.Outside:
        api = urlsplit(provider.api_base or "")
        raise EditError(f"“{path}” is not an endpoint of this provider. The request "
                        f"may go to {', '.join(allowed)}"
                        + (f", or a path under {api.path}/" if api.path else "")
                        + f" on {origin.scheme}://{origin.netloc}, nothing else."
                        ) from None


def open_branch(parent: Run, number: int, ttl: float) -> Run:
    """A new run of the parent's flow, from step ``number``: copies of the records
    before it and of the secrets; the parent is only read."""
    options = {**parent.options, "branch": {"of": parent.id, "step": number}}
    branch = store.create(parent.owner, parent.flow, parent.provider, options, ttl)
    store.db.get().execute(update(runs).where(runs.c.id == branch.id)
                           .values(parent=parent.id, parent_step=number))
    branch.secrets = copy.deepcopy(parent.secrets)
    branch.steps = list(parent.steps[:number - 1])
    return branch


def send_back(branch: Run, flow: Flow, used: Sent, url: str, rows: list[Row],
              names: dict, timeout: float) -> None:
    """Send the edited request from this server and record it as the step's
    outcome; a token it brings is kept in the branch (masked like any)."""
    query, headers, body = request_parts(rows, names)
    session = capture_session(requests.Session())
    session.headers.clear()
    session.trust_env = False
    target = f"{url}?{query}" if query else url
    data = _branch_data(branch, used, rows)
    try:
        response = session.request(used.message.start.method, target, data=body,
                                   headers=dict(headers), timeout=timeout,
                                   allow_redirects=False)
    except requests.RequestException as exc:
        outcome = {"error": transport_error(exc, timeout), "data": data}
    else:
        exchange = exchange_of(session, response)
        failed = None if response.ok else f"HTTP {response.status_code}"
        outcome = {"exchanges": [exchange.to_dict()], "data": data,
                   "status_code": response.status_code,
                   "error": code_of(exchange.response) or failed}
        _keep_token(branch, as_json(response))
    engine.record(branch, flow, flow.steps[used.number - 1], outcome)


def front(branch: Run, flow: Flow, used: Sent, url: str, rows: list[Row],
          names: dict) -> str:
    """Record the edited authorization request as the branch's step, waiting for
    the browser to come back with its ``state`` (RFC 6749 §10.12): the secrets of
    later steps are dropped. The URL to send the browser to."""
    query, _, _ = request_parts(rows, names)
    target = f"{url}?{query}" if query else url
    state = next((fill(r.value, names) for r in rows
                  if r.where == "query" and r.name == "state"), None)
    branch.secrets = {k: v for k, v in branch.secrets.items() if k in FRONT_SECRETS}
    branch.secrets["authorize_url"] = target
    if state:
        branch.secrets["state"] = state
    engine.record(branch, flow, flow.steps[used.number - 1],
                  {"data": {"url": target, **_branch_data(branch, used, rows)}})
    return target


def _branch_data(branch: Run, used: Sent, rows: list[Row]) -> dict:
    """What the branch's record keeps of the edit: the rows as typed (names, not
    values, for the run's secrets)."""
    return {"branch": {"of": branch.options["branch"]["of"], "step": used.number,
                       "rows": [[r.where, r.name, r.value] for r in rows]}}


def _keep_token(branch: Run, answer: dict) -> None:
    if isinstance(answer.get("access_token"), str):
        branch.secrets["token"] = answer
        issued = answer.get("refresh_token")
        kept = branch.secrets.setdefault("refresh_tokens", [])
        if isinstance(issued, str) and issued not in kept[-1:]:
            kept.append(issued)


def make(parent: Run, flow: Flow, used: Sent, url: str, rows: list[Row],
         names: dict, settings, remote: bool, box) -> tuple[Run, str | None]:
    """Branch ``parent`` at ``used``'s step and send the edited request: from here
    within the outbound limits (a typed-in provider on public addresses only, when
    ``remote``), or, for the front channel, the URL the browser is sent to. The
    branch is saved with its secrets sealed in ``box`` as any run's."""
    request_parts(rows, names)  # an unknown name or a bad header: refused first
    branch = open_branch(parent, used.number, settings.ttl)
    browser = None
    if used.channel == "front":
        browser = front(branch, flow, used, url, rows, names)
    else:
        typed_in = parent.provider.kind == "discovered"
        with outbound.limits(settings.deadline, typed_in and remote):
            send_back(branch, flow, used, url, rows, names, settings.timeout)
    store.save(branch, box)
    return branch, browser
