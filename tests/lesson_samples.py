"""Helpers for tests/test_lesson_samples.py: find the lessons' code, serve HTTPS.

The samples talk to ``https://accounts.spotify.com`` and ``https://api.spotify.com``.
To run them as printed, the sandbox is served over real TLS with a throwaway
certificate that the subprocesses trust through environment variables only.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

LESSONS = Path(__file__).resolve().parent.parent / "content" / "lessons"
FENCE = re.compile(r"^( *)(```|~~~)([\w+-]*)[^\n]*\n(.*?)^\1\2 *$", re.M | re.S)
ACCOUNTS = "https://accounts.spotify.com"
API = "https://api.spotify.com"
PLACEHOLDERS = {"id": "your-client-id", "secret": "your-client-secret"}


@dataclass(frozen=True)
class Block:
    """One fenced code block: ``nth`` counts blocks of its language in the lesson."""

    slug: str
    lang: str
    nth: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.slug}:{self.lang}:{self.nth}"


def blocks(folder: Path = LESSONS) -> list[Block]:
    """Every fenced block of every published lesson (``_draft.md`` files skipped)."""
    found = []
    for path in sorted(folder.glob("*.md")):
        if path.name.startswith("_"):
            continue
        counts: dict[str, int] = {}
        for match in FENCE.finditer(path.read_text(encoding="utf-8")):
            lang = match.group(3).lower() or "text"
            counts[lang] = counts.get(lang, -1) + 1
            code = textwrap.dedent(match.group(4))
            found.append(Block(path.stem, lang, counts[lang], code))
    return found


def substitute(code: str, base: str, client_id: str, secret: str = "") -> str:
    """The only changes a sample gets: Spotify's base URLs, placeholder credentials."""
    code = code.replace(ACCOUNTS, base + "/sandbox").replace(API, base + "/sandbox")
    code = code.replace(PLACEHOLDERS["id"], client_id)
    return code.replace(PLACEHOLDERS["secret"], secret)


def make_certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


class HttpsServer:
    """``app`` served over TLS on a free loopback port by werkzeug, in a thread."""

    def __init__(self, app, cert: str, key: str) -> None:
        self.app, self.cert = app, cert
        self.server = make_server("127.0.0.1", 0, app, threaded=True,
                                  ssl_context=(cert, key))
        self.url = f"https://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def env(self, **values: str) -> dict[str, str]:
        """A subprocess environment that trusts the certificate, and nothing more.

        ``OAUTHLIB_INSECURE_TRANSPORT`` is removed: the app under test sets it in
        this process, and a sample must cope without it as a reader's program would.
        ``BROWSER=true`` makes ``webbrowser.open`` a no-op; the test is the browser.
        """
        env = {k: v for k, v in os.environ.items()
               if k != "OAUTHLIB_INSECURE_TRANSPORT"}
        env.update(REQUESTS_CA_BUNDLE=self.cert, CURL_CA_BUNDLE=self.cert,
                   NODE_EXTRA_CA_CERTS=self.cert, BROWSER="true", **values)
        return env

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
