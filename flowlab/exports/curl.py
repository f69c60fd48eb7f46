"""A bash script of curl commands replaying the back-channel calls."""

from __future__ import annotations

import re
import shlex

from ..runner.present import Redactor
from ..security import mask
from ._common import _heading
from ._common import secure
from .replay import Replay
from .replay import Var
from .replay import _one_line
from .replay import _used
from .replay import replays


def curl_script(run, flow, redact: Redactor) -> str:
    """A bash script that replays the back-channel requests with curl."""
    found, variables = replays(run, flow, redact)
    redact = secure(run, redact)
    lines = ["#!/usr/bin/env bash", f"# OAuth Flow Lab: {_heading(run, flow)}.",
             "# Replays the back-channel requests of the run with curl, as they were",
             "# captured, minus the headers curl sets itself (Host, Content-Length,",
             "# Connection, Accept-Encoding, User-Agent).",
             "# Usage: bash this-file.sh [N ...]   runs every request, or request N.",
             "# An authorization code works once, and a code verifier belongs to its",
             "# code: run the flow again for fresh ones to replay a code exchange.",
             "set -euo pipefail", ""]
    used = set().union(*(_used(r, curl=True) for r in found))
    lines += _sh_variables(variables.values(used), redact.reveal)
    lines += ["need() {", "  local name", '  for name in "$@"; do',
              '    if [ -z "${!name:-}" ]; then',
              '      echo "Fill in $name at the top of this script." >&2',
              "      exit 1", "    fi", "  done", "}", ""]
    for index, replay in enumerate(found, 1):
        lines += _sh_function(index, replay)
    lines += [f'if [ "$#" -eq 0 ]; then set -- {_sh_all(len(found))}; fi',
              'for n in "$@"; do', '  "request_$n"', "done"]
    return redact("\n".join(lines) + "\n")


def _sh_variables(values: list, reveal: bool) -> list[str]:
    lines = []
    for name, value, secret in values:
        if reveal or not secret:
            lines.append(f"{name}={shlex.quote(value)}")
        else:
            shown = _one_line(mask(value))
            lines.append(f"{name}=''  # masked in this export ({shown}): fill in")
    return [*lines, ""] if lines else []




def _sh_function(index: int, replay: Replay) -> list[str]:
    args = ["--silent", "--show-error", "--include"]
    has_data = bool(replay.form or replay.body)
    if replay.method != ("POST" if has_data else "GET"):
        args.append(f"--request {shlex.quote(replay.method)}")
    if replay.basic:
        user, password = replay.basic
        args.append("--user " + _sh_word([*user, ":", *password]))
    for name, value in replay.headers:
        if not (replay.basic and name.lower() == "authorization"):
            args.append("--header " + _sh_word([f"{name}: ", *value]))
    if replay.form is not None:
        args += ["--data-urlencode " + _sh_word([f"{k}=", *v]) for k, v in replay.form]
    elif replay.body:
        args.append("--data-binary " + _sh_word(replay.body))
    args.append(_sh_word(replay.url))
    used = sorted(_used(replay, curl=True))
    body = " \\\n    ".join(["curl", *args])
    return [f"request_{index}() {{", f"  # {_one_line(replay.title)}",
            f"  # Captured answer: {_one_line(replay.answer)}",
            *([f"  need {' '.join(used)}"] if used else []),
            f"  echo '### Request {index}'", f"  {body}", "  echo", "}", ""]


def _sh_all(count: int) -> str:
    return " ".join(str(n) for n in range(1, count + 1))




def _sh_word(pieces: list) -> str:
    """One shell word: single-quoted if literal, else double-quoted with ${VARS}."""
    if not any(isinstance(p, Var) for p in pieces):
        return shlex.quote("".join(pieces))
    out = []
    for piece in pieces:
        if isinstance(piece, Var):
            out.append("${" + piece.name + "}")
        else:
            out.append(re.sub(r'([\\"$`])', r"\\\1", piece))
    return '"' + "".join(out) + '"'
