"""A bash script that runs the flow again with curl, with fresh values throughout."""

from __future__ import annotations

import textwrap

from flowlab.core.exports._common import _heading
from flowlab.core.exports._common import published
from flowlab.core.exports._common import secure
from flowlab.core.exports.device import POLL_HELPER
from flowlab.core.exports.device import SH_AFTER_REQUEST
from flowlab.core.exports.device import SH_INTRO
from flowlab.core.exports.device import is_request
from flowlab.core.exports.escape import plain
from flowlab.core.exports.escape import sh_comment
from flowlab.core.exports.escape import sh_word
from flowlab.core.exports.escape import url
from flowlab.core.exports.replay import Plan
from flowlab.core.exports.replay import Replay
from flowlab.core.exports.replay import Var
from flowlab.core.exports.replay import plan
from flowlab.core.publicurl import Addresses
from flowlab.core.redact import Redactor
from flowlab.core.redact import mask

# Shell helpers the steps call; python3 makes random values, hashes and reads JSON.
HELPERS = r"""
need() {
  local name
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "Fill in $name at the top of this script (or set it in the environment)." >&2
      exit 1
    fi
  done
}

# call EXPECTED CURL-ARGUMENTS...: send one request, stop unless it answers EXPECTED.
call() {
  local expected="$1"
  shift
  send "$@"
  if [ "$STATUS" != "$expected" ]; then
    echo "The lab's run got HTTP $expected here; this time: HTTP $STATUS." >&2
    exit 1
  fi
}

# send CURL-ARGUMENTS...: send one request, print the answer, keep STATUS and BODY.
send() {
  local out
  # --globoff: braces and brackets in a URL are characters, not curl's patterns.
  out=$(curl --globoff --silent --show-error --include \
    --write-out '\n%{http_code}' "$@")
  STATUS=${out##*$'\n'}
  out=${out%$'\n'*}
  printf '%s\n\n' "$out"
  BODY=${out#*$'\r\n\r\n'}
}

# json NAME: the string or integer NAME of the last answer's JSON object, or nothing.
json() {
  python3 -c 'import json, sys
try:
    value = json.loads(sys.argv[1]).get(sys.argv[2])
except (ValueError, AttributeError):
    value = None
print(value if isinstance(value, str) or type(value) is int else "")' "$BODY" "$1"
}

# keep_tokens: the access token, and a refresh token if a new one came back.
keep_tokens() {
  local access refresh
  access=$(json access_token)
  refresh=$(json refresh_token)
  if [ -n "$access" ]; then ACCESS_TOKEN=$access; fi
  if [ -n "$refresh" ]; then
    PREVIOUS_REFRESH_TOKEN=$REFRESH_TOKEN
    REFRESH_TOKEN=$refresh
  fi
}

# param NAME URL: parameter NAME of the URL's query or fragment, decoded.
param() {
  python3 -c 'import sys, urllib.parse as u
parts = u.urlsplit(sys.argv[2])
found = dict(u.parse_qsl(parts.query) + u.parse_qsl(parts.fragment))
print(found.get(sys.argv[1], ""))' "$1" "$2"
}

# random: 43 URL-safe random characters (a state, or an RFC 7636 §4.1 verifier).
random() {
  python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

# challenge VERIFIER: BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2).
challenge() {
  python3 -c 'import base64, hashlib, sys
digest = hashlib.sha256(sys.argv[1].encode("ascii")).digest()
print(base64.urlsafe_b64encode(digest).decode().rstrip("="))' "$1"
}
"""
FRESH = ("STATE", "CODE_VERIFIER", "CODE_CHALLENGE", "CODE", "ACCESS_TOKEN",
         "REFRESH_TOKEN", "PREVIOUS_REFRESH_TOKEN", "STATUS")
DEVICE = ("DEVICE_CODE", "INTERVAL", "EXPIRES_IN", "DEADLINE")


def curl_script(run, flow, redact: Redactor, where: Addresses | None = None) -> str:
    """A bash script that runs the flow again: fresh state, code and tokens."""
    run, note = published(run, where)
    found = plan(run, flow)
    redact = secure(run, redact)
    lines = ["#!/usr/bin/env bash",
             sh_comment(f"OAuth Flow Lab: {_heading(run, flow)}.")]
    polls = any(step.poll for step in found.steps)
    lines += _comment(SH_INTRO if polls else
        "Runs this flow again with curl, with fresh values: a new state, a new PKCE "
        "verifier where the flow has one, a new code from your browser, new tokens. "
        "Nothing spent in the lab's run is sent again: a code works once, and its "
        "tokens expire or get revoked. Needs bash, curl and python3. "
        "Usage: bash this-file.sh")
    lines += ["#", *_comment(note)] if note else []
    lines += ["set -euo pipefail", ""]
    lines += _variables(found, redact.reveal)
    lines += [HELPERS.strip("\n"), ""]
    if polls:
        lines += [POLL_HELPER.strip("\n"), ""]
    names: list[str] = []
    for step in found.steps:
        name = f"step_{step.number}"
        names.append(name if name not in names else f"{name}_{len(names)}")
        lines += [f"{names[-1]}() {{", f"  {sh_comment(step.title)}",
                  f"  echo {sh_word('### ' + plain(step.title))}",
                  *(f"  {line}" for line in _body(step, found)), "}", ""]
    secret = " CLIENT_SECRET" if found.uses("CLIENT_SECRET") else ""
    lines += [f"need CLIENT_ID{secret}", f"for step in {' '.join(names)}; do",
              '  "$step"', "done"]
    return redact("\n".join(lines) + "\n")


def _comment(text: str) -> list[str]:
    return [sh_comment(line) for line in textwrap.wrap(plain(text), 84)]


def _variables(found: Plan, reveal: bool) -> list[str]:
    lines = [f"CLIENT_ID=${{CLIENT_ID:-{sh_word(found.client_id)}}}"]
    if found.uses("CLIENT_SECRET"):
        secret = found.client_secret
        if reveal and secret:
            lines.append(f"CLIENT_SECRET=${{CLIENT_SECRET:-{sh_word(secret)}}}")
        else:
            shown = f" ({mask(secret)})" if secret else ""
            lines.append("CLIENT_SECRET=${CLIENT_SECRET:-}  " + sh_comment(
                f"masked in this export{shown}: fill in"))
    lines.append("BODY=''")
    device = DEVICE if any(step.poll for step in found.steps) else ()
    lines += [f"{name}=''" for name in (*FRESH, *device)]
    return [*lines, ""]


def _body(step: Replay, found: Plan) -> list[str]:
    if step.action == "authorize":
        fresh = ["STATE=$(random)"]
        if found.pkce:
            fresh += ["CODE_VERIFIER=$(random)",
                      'CODE_CHALLENGE=$(challenge "$CODE_VERIFIER")']
        return [*fresh, "echo 'Open this URL in a browser, log in and agree:'",
                f"echo {_sh_word(step.url, url)}"]
    if step.declared.receives:
        return _read_callback(step, found)
    if is_request(step):
        return [*_request(step, keep=False), *SH_AFTER_REQUEST.split("\n")]
    return _request(step)


def _read_callback(step: Replay, found: Plan) -> list[str]:
    lines = ["echo 'Your browser then lands on the redirect URI. The page there knows "
             "nothing of'",
             "echo 'this script: that is expected. Paste the address from the address "
             "bar here:'",
             "read -r CALLBACK_URL",
             'if [ "$(param state "$CALLBACK_URL")" != "$STATE" ]; then',
             "  echo 'The state does not match: not the answer to this request "
             "(RFC 6749 §10.12).' >&2", "  exit 1", "fi",
             'if [ -n "$(param error "$CALLBACK_URL")" ]; then',
             '  echo "The provider answered: $(param error "$CALLBACK_URL")" >&2',
             "  exit 1", "fi"]
    if found.iss:
        expected = sh_word(found.iss)
        lines += [f'if [ "$(param iss "$CALLBACK_URL")" != {expected} ]; then',
                  "  echo 'The iss does not name the expected "
                  "authorization server (RFC 9207 §2.4).' >&2", "  exit 1", "fi"]
    name = "ACCESS_TOKEN" if step.declared.receives == "fragment" else "CODE"
    return [*lines, f'{name}=$(param {name.lower()} "$CALLBACK_URL")', f"need {name}"]


def _request(step: Replay, keep: bool = True) -> list[str]:
    args = []
    has_data = bool(step.form or step.body)
    if step.method != ("POST" if has_data else "GET"):
        args.append(f"--request {sh_word(step.method)}")
    if step.basic:
        args.append('--user "${CLIENT_ID}:${CLIENT_SECRET}"')
    args += ["--header " + _sh_word([f"{name}: ", *value])
             for name, value in step.headers]
    if step.form is not None:
        args += ["--data-urlencode " + _sh_word([f"{k}=", *v]) for k, v in step.form]
    elif step.body:
        args.append("--data-binary " + sh_word(step.body))
    args.append(_sh_word(step.url, url))
    used = sorted(_vars(step) | ({"CLIENT_SECRET"} if step.basic else set()))
    send = "poll" if step.poll else f"call {step.expect or 200}"
    call = " \\\n    ".join([send, *args])
    keep = ["keep_tokens"] if keep and step.declared.issues_token else []
    return [*([f"need {' '.join(used)}"] if used else []), call, *keep]


def _vars(step: Replay) -> set[str]:
    pieces = list(step.url) + [p for _, v in step.headers for p in v]
    pieces += [p for _, v in step.form or [] for p in v]
    return {p.name for p in pieces if isinstance(p, Var)} - {"PREVIOUS_REFRESH_TOKEN"}


def _sh_word(pieces: list, encode=None) -> str:
    """One shell word: literal runs single-quoted, variables as ``"${NAME}"``."""
    words, literal = [], ""
    for piece in [*pieces, None]:
        if isinstance(piece, str):
            literal += piece
            continue
        if literal:
            words.append(sh_word(encode(literal) if encode else literal))
            literal = ""
        if piece is not None:
            words.append('"${' + piece.name + '}"')
    return "".join(words) or "''"
