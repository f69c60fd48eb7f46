"""A ``.http`` file (VS Code REST Client, JetBrains HTTP Client)."""

from __future__ import annotations

from urllib.parse import quote_plus

from ..runner.present import Redactor
from ..security import mask
from ._common import _heading
from ._common import secure
from .replay import Replay
from .replay import Var
from .replay import _one_line
from .replay import _used
from .replay import replays


def http_file(run, flow, redact: Redactor) -> str:
    """The back-channel requests as a ``.http`` file, ``###`` between requests."""
    found, variables = replays(run, flow, redact)
    redact = secure(run, redact)
    lines = [f"# OAuth Flow Lab: {_heading(run, flow)}.",
             "# The back-channel requests of the run, for the VS Code REST Client and",
             "# the JetBrains HTTP Client. Fill in any empty variable first.", ""]
    used = set().union(*(_used(r, curl=False) for r in found))
    for name, value, secret in variables.values(used):
        if secret and not redact.reveal:
            lines.append(f"# {name.lower()}: masked in this export "
                         f"({_one_line(mask(value))}), fill in")
            value = ""
        lines.append(f"@{name.lower()} = {_one_line(value)}".rstrip())
    lines.append("")
    for replay in found:
        lines += _http_request(replay)
    return redact("\n".join(lines).rstrip("\n") + "\n")


def _http_request(replay: Replay) -> list[str]:
    lines = [f"### {_one_line(replay.title)}",
             f"# Captured answer: {_one_line(replay.answer)}",
             f"{replay.method} {_http_text(replay.url)} HTTP/1.1"]
    lines += [f"{name}: {_http_text(value)}" for name, value in replay.headers]
    if replay.form is not None:
        body = "&".join(f"{quote_plus(k)}={_http_text(v, quote_plus)}"
                        for k, v in replay.form)
    else:
        body = _http_text(replay.body)
    return [*lines, "", body, ""] if body else [*lines, ""]


def _http_text(pieces: list, encode=None) -> str:
    return "".join("{{" + p.name.lower() + "}}" if isinstance(p, Var)
                   else (encode(p) if encode else p) for p in pieces)
