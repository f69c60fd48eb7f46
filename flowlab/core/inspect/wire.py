"""Pasted HTTP read back: raw HTTP/1.1 text (RFC 9112 §2.1) or a curl command line
as a message, as a log, a proxy or a colleague shows a request; a WWW-Authenticate
value as its challenges' parameters (RFC 9110 §11.6.1)."""

from __future__ import annotations

import base64
import re
import shlex
from urllib.parse import quote_plus
from urllib.parse import urlsplit

from flowlab.core.http import Message

REQUEST_LINE = re.compile(r"[A-Z]+ \S+ HTTP/\d(?:\.\d)?")
STATUS_LINE = re.compile(r"HTTP/\d(?:\.\d)? \d{3}(?: .*)?")
# A challenge (RFC 9110 §11.6.1): a scheme, auth-params; more challenges after commas.
PARAM = r'[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[\w!#$%&\'*+.^`|~/:-]+)'
CHALLENGE = re.compile(rf"(?:WWW-Authenticate:\s*)?([A-Za-z][\w-]*)"
                       rf"((?:\s+{PARAM}(?:\s*,\s*(?:[A-Za-z][\w-]*\s+)?{PARAM})*)?)",
                       re.IGNORECASE)
AUTH_PARAM = re.compile(r'([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]+)')
KNOWN_SCHEMES = {"bearer", "dpop", "basic"}
FORM = "application/x-www-form-urlencoded"
# curl's options that carry the request, by what they set; options with an argument
# that does not (output, timeouts, certificates) are skipped with their argument.
DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii"}
SKIPPED = {"-o", "--output", "-m", "--max-time", "--connect-timeout", "-w",
           "--write-out", "--cacert", "--cert", "--key", "-E", "-b", "--cookie",
           "-c", "--cookie-jar", "-x", "--proxy", "--retry", "-T", "--upload-file"}


def http_message(text: str) -> Message | None:
    """A request or response written out as HTTP: start line, header lines, a blank
    line, the body. None unless the first line is a request or status line."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    if not (REQUEST_LINE.fullmatch(lines[0]) or STATUS_LINE.fullmatch(lines[0])):
        return None
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            return None
        headers.append((name.strip(), value.strip()))
    return Message(lines[0], headers, body.strip())


def curl_message(text: str) -> Message | None:
    """The request a curl command sends: method, URL, headers, ``-u`` as Basic
    (RFC 7617 §2) and the data options as a form body, curl's default type."""
    text = text.strip().removeprefix("$ ")
    if not text.startswith("curl "):
        return None
    try:
        words = shlex.split(text.replace("\r\n", "\n").replace("\\\n", " "))[1:]
    except ValueError:
        return None
    method, url, headers, data = "", "", [], []
    words.reverse()
    while words:
        word = words.pop()
        if word.startswith("-X") and len(word) > 2:
            method = word[2:]
        elif word in ("-X", "--request") and words:
            method = words.pop()
        elif word in ("-H", "--header") and words:
            name, _, value = words.pop().partition(":")
            headers.append((name.strip(), value.strip()))
        elif word in ("-u", "--user") and words:
            pair = base64.b64encode(words.pop().encode()).decode()
            headers.append(("Authorization", f"Basic {pair}"))
        elif word in DATA and words:
            data.append(words.pop())
        elif word == "--data-urlencode" and words:
            name, equals, value = words.pop().partition("=")
            data.append(f"{name}={quote_plus(value)}" if equals else quote_plus(name))
        elif word == "--url" and words:
            url = words.pop()
        elif word in SKIPPED and words:
            words.pop()
        elif not word.startswith("-") and not url:
            url = word
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if data and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", FORM))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    start = f"{method or ('POST' if data else 'GET')} {target} HTTP/1.1"
    return Message(start, [("Host", parts.netloc), *headers], "&".join(data))


def challenge(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """A WWW-Authenticate value and its auth-params: a known scheme with
    parameters, or the whole header line with any scheme."""
    match = CHALLENGE.fullmatch(text)
    if not match:
        return None
    named = text[:17].lower() == "www-authenticate:"
    params = AUTH_PARAM.findall(match[2])
    if not named and (match[1].lower() not in KNOWN_SCHEMES or not params):
        return None
    value = text.split(":", 1)[1].strip() if named else text
    return value, [(name, raw.strip('"').replace('\\"', '"'))
                   for name, raw in params]
