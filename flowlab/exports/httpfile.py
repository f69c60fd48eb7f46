"""A ``.http`` file (VS Code REST Client, JetBrains HTTP Client) that runs the flow
again: fresh state and verifier, a code pasted in, tokens taken from the answers."""

from __future__ import annotations

import base64
import hashlib
import secrets
import textwrap
from urllib.parse import quote_plus

from ..publicurl import Addresses
from ..runner.present import Redactor
from ..security import mask
from ._common import _heading
from ._common import published
from ._common import secure
from .replay import TOKEN_ACTIONS
from .replay import Plan
from .replay import Replay
from .replay import Var
from .replay import one_line
from .replay import plan

INTRO = (
    "Runs this flow again with fresh values: the state (and any PKCE verifier) below "
    "were made for this file, the code comes from your browser, and each request takes "
    "its token from an earlier answer. Nothing spent in the lab's run is sent again. "
    "Send the requests in order. The {{step_N.response.body.$.access_token}} "
    "references are the VS Code REST Client's; in the JetBrains HTTP Client, copy "
    "the token into a variable instead.")


def http_file(run, flow, redact: Redactor, where: Addresses | None = None) -> str:
    """The flow as a ``.http`` file, ``###`` between requests."""
    run, note = published(run, where)
    found = plan(run, flow)
    redact = secure(run, redact)
    lines = [f"# OAuth Flow Lab: {one_line(_heading(run, flow))}.", *_comment(INTRO)]
    lines += ["#", *_comment(note)] if note else []
    lines += ["", *_variables(found, redact.reveal)]
    fresh = _fresh(found.pkce)
    lines += [f"@{name} = {value}" for name, value in fresh.items()]
    sources = {"ACCESS_TOKEN": "{{access_token}}", "REFRESH_TOKEN": "",
               "PREVIOUS_REFRESH_TOKEN": ""}
    for step in found.steps:
        if step.action == "authorize":
            url = "".join(fresh[p.name.lower()] if isinstance(p, Var) else p
                          for p in step.url)
            lines += ["", f"# {one_line(step.title)}: open this URL in a browser, "
                      "log in and agree:", f"# {one_line(url)}"]
        elif step.action in ("callback", "fragment"):
            name = "access_token" if step.action == "fragment" else "code"
            lines += [f"# {one_line(step.title)}: your browser lands on the redirect "
                      "URI.", f"# Check that its state is {fresh['state']}, then "
                      f"paste its {name} here:", f"@{name} ="]
        else:
            lines += ["", *_request(step, sources)]
            _learn(step, sources)
    return redact("\n".join(lines).rstrip("\n") + "\n")


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(one_line(text), 84)]


def _variables(found: Plan, reveal: bool) -> list[str]:
    lines = [f"@client_id = {one_line(found.client_id)}"]
    if found.uses("CLIENT_SECRET"):
        secret = found.client_secret
        if reveal and secret:
            lines.append(f"@client_secret = {one_line(secret)}")
        else:
            shown = f" ({one_line(mask(secret))})" if secret else ""
            lines += [f"# client_secret: masked in this export{shown}, fill in",
                      "@client_secret ="]
    return lines


def _fresh(pkce: bool) -> dict[str, str]:
    """A state, and a verifier with its S256 challenge (RFC 7636 §4.1, §4.2)."""
    values = {"state": secrets.token_urlsafe(24)}
    if pkce:
        verifier = secrets.token_urlsafe(32)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        values["code_verifier"] = verifier
        values["code_challenge"] = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return values


def _learn(step: Replay, sources: dict) -> None:
    """Where later requests find the tokens: in this answer, if the lab's had them."""
    if step.action not in TOKEN_ACTIONS or (step.expect or 200) >= 300:
        return
    answer = f"{{{{step_{step.number}.response.body.$."
    if "access_token" in step.gave:
        sources["ACCESS_TOKEN"] = answer + "access_token}}"
    if "refresh_token" in step.gave:
        sources["PREVIOUS_REFRESH_TOKEN"] = sources["REFRESH_TOKEN"]
        sources["REFRESH_TOKEN"] = answer + "refresh_token}}"


def _request(step: Replay, sources: dict) -> list[str]:
    lines = [f"### {one_line(step.title)}", f"# @name step_{step.number}",
             f"{step.method} {_text(step.url, sources)} HTTP/1.1"]
    if step.basic:
        lines.append("Authorization: Basic {{client_id}} {{client_secret}}")
    lines += [f"{name}: {_text(value, sources)}" for name, value in step.headers]
    if step.form is not None:
        body = "&".join(f"{quote_plus(k)}={_text(v, sources, quote_plus)}"
                        for k, v in step.form)
    else:
        body = one_line(step.body)
    return [*lines, "", body] if body else lines


def _text(pieces: list, sources: dict, encode=None) -> str:
    out = []
    for piece in pieces:
        if isinstance(piece, Var):
            out.append(sources.get(piece.name) or "{{" + piece.name.lower() + "}}")
        else:
            out.append(one_line(encode(piece) if encode else piece))
    return "".join(out)
