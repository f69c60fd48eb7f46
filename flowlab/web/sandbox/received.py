"""What the token endpoint received from a browser app, kept for that app's run.

When a page sends the PKCE token request itself (RFC 7636 §4.5), the lab's runner
did not send it and cannot have captured it. So the sandbox keeps it: a WSGI
middleware records each token request that carries ``Origin`` (a browser's), any
CORS preflight from the same origin and address before it, and the answer the app
gave, keyed by a hash of the ``code_verifier``. Whoever holds the verifier, and
only they, may read the record once, at ``/sandbox/demo/received`` (not in
Spotify). The body and every header value are the bytes received; the server
(waitress) hands header names over in capitals, so their letter case is restored,
and it adds its own ``Date`` and ``Server`` after the app has answered.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from urllib.parse import parse_qs

from flask import Blueprint
from flask import Flask
from flask import request

from flowlab.core.http import from_wsgi
from flowlab.web.security import csrf_exempt

TOKEN_PATH = "/sandbox/api/token"
KEEP_SECONDS = 300
MAX_KEPT = 256


class Recorder:
    """WSGI middleware: records a browser's token requests and their answers."""

    def __init__(self, app, max_body: int,
                 paths: tuple[str, ...] = (TOKEN_PATH,)) -> None:
        self.app, self.max_body, self.paths = app, max_body, paths
        self.kept: dict[str, tuple[float, list]] = {}
        self.preflights: dict[tuple, tuple[float, dict]] = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        size = environ.get("CONTENT_LENGTH") or "0"
        if (environ.get("PATH_INFO") not in self.paths or "HTTP_ORIGIN" not in environ
                or method not in ("POST", "OPTIONS") or not size.isdigit()
                or int(size) > self.max_body):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(size))
        environ["wsgi.input"] = io.BytesIO(body)
        answer: dict = {}

        def recording(status, headers, exc_info=None):
            answer.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        started = time.time()
        result = self.app(environ, recording)
        try:
            chunks = [bytes(chunk) for chunk in result]
        finally:
            getattr(result, "close", lambda: None)()
        sent = from_wsgi(environ, cookie="(a cookie: not recorded)")
        exchange = {
            "request": {"start_line": sent.start_line,
                        "headers": [list(h) for h in sent.headers],
                        "body": body.decode("utf-8", "replace")},
            "response": {"start_line": f"{environ['SERVER_PROTOCOL']} "
                                       f"{answer.get('status', '')}",
                         "headers": answer.get("headers", []),
                         "body": b"".join(chunks).decode("utf-8", "replace")},
            "started": started,
            "elapsed_ms": round((time.time() - started) * 1000, 1),
        }
        self._keep(environ, method, body, exchange)
        return chunks

    def _keep(self, environ, method: str, body: bytes, exchange: dict) -> None:
        sender = (environ.get("REMOTE_ADDR"), environ["HTTP_ORIGIN"])
        now = time.time()
        with self.lock:
            for store in (self.kept, self.preflights):
                for key in [k for k, (t, _) in store.items() if t < now - KEEP_SECONDS]:
                    del store[key]
            if method == "OPTIONS":
                self.preflights[sender] = (now, exchange)
                return
            verifier = parse_qs(body.decode("latin-1")).get("code_verifier", [""])[0]
            if not verifier:
                return
            before = self.preflights.pop(sender, None)
            exchanges = ([before[1]] if before else []) + [exchange]
            if len(self.kept) >= MAX_KEPT:  # the oldest record gives way
                del self.kept[min(self.kept, key=lambda k: self.kept[k][0])]
            self.kept[_key(verifier)] = (now, exchanges)

    def take(self, verifier: str) -> list | None:
        """The record for ``verifier``, once; None if there is none (any more)."""
        with self.lock:
            found = self.kept.pop(_key(verifier), None)
        return found[1] if found and found[0] >= time.time() - KEEP_SECONDS else None


def _key(verifier: str) -> str:
    return hashlib.sha256(verifier.encode()).hexdigest()


def init_app(app: Flask, token_paths: tuple[str, ...]) -> Blueprint:
    """Record the token endpoints' browser requests; serve the records from the
    blueprint returned (each issuer registers it under its own path)."""
    recorder = Recorder(app.wsgi_app, app.config["OAUTH_MAX_CONTENT_LENGTH"],
                        token_paths)
    app.wsgi_app = recorder
    bp = Blueprint("sandbox_received", __name__, url_prefix="/sandbox")

    @bp.post("/demo/received")
    @csrf_exempt
    def received():
        """Demo control, not in Spotify: what the token endpoint received from a
        page."""
        return answer(recorder, request.form.get("code_verifier", ""))

    app.register_blueprint(bp)
    return bp


def answer(recorder: Recorder, verifier: str):
    """The record for ``verifier``, once, as JSON; 404 if there is none."""
    found = recorder.take(verifier) if verifier else None
    if found is None:
        return {"error": "not_found"}, 404, {"Cache-Control": "no-store"}
    return {"exchanges": found}, 200, {"Cache-Control": "no-store"}
