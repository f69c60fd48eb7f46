"""A local stand-in for a provider: Spotify-shaped, recording what it receives.

Modes change how the token endpoint misbehaves: ``ok``, ``html`` (an HTML page
instead of JSON), ``slow`` (answers after the runner gave up), ``xss`` (an error
whose description carries markup), ``list`` (JSON, but not an object), ``redirect``
(a 307 that would re-post the credentials elsewhere), ``bad-issuer`` (metadata naming
another issuer). ``artist_id`` is what its search answers, for tests of how the
runner builds the next request's path from it.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Flask
from flask import redirect
from flask import request

ACCESS = "standin-access-token-0123456789abcdef"
REFRESH = "standin-refresh-token-0123456789abcdef"
CODE = "standin-code-0123456789abcdef"


def make_standin() -> Flask:
    app = Flask("standin")
    app.seen = []
    app.mode = "ok"
    app.artist_id = "standin-artist"

    @app.before_request
    def record():
        app.seen.append({"method": request.method,
                         "path": request.full_path.rstrip("?"),
                         "raw": request.environ.get("REQUEST_URI", ""),
                         "headers": dict(request.headers),
                         "body": request.get_data(as_text=True)})

    @app.get("/authorize")
    def authorize():
        back = {"code": CODE, "state": request.args["state"]}
        return redirect(f"{request.args['redirect_uri']}?{urlencode(back)}", 303)

    @app.post("/api/token")
    def token():
        if app.mode == "html":
            return "<html><body>Bad gateway</body></html>", 502
        if app.mode == "slow":
            time.sleep(2.5)
        if app.mode == "list":
            return "[1, 2]", 200, {"Content-Type": "application/json"}
        if app.mode == "redirect":
            return redirect("http://127.0.0.1:9/steal", 307)
        if app.mode == "xss":
            return {"error": "invalid_request",
                    "error_description": "<script>alert(1)</script>"}, 400
        answer = {"access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600}
        if request.form.get("grant_type") == "authorization_code":
            answer.update(refresh_token=REFRESH, scope=" ".join(sorted(
                "user-read-private user-read-email playlist-read-private".split())))
        return answer, 200, {"Cache-Control": "no-store"}

    @app.get("/v1/me")
    def me():
        return {"id": "standin-user", "display_name": "Stand-in", "type": "user"}

    @app.get("/v1/search")
    def search():
        return {"artists": {"items": [{"id": app.artist_id, "type": "artist"}]}}

    @app.get("/v1/artists/<path:artist_id>")
    def artist(artist_id):
        return {"id": artist_id, "type": "artist"}

    @app.get("/moved/.well-known/oauth-authorization-server")
    def moved():
        return redirect("/.well-known/oauth-authorization-server", 302)

    @app.get("/.well-known/oauth-authorization-server")
    def metadata():
        base = request.host_url.rstrip("/")
        issuer = "https://elsewhere.example" if app.mode == "bad-issuer" else base
        return {"issuer": issuer, "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/api/token",
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"]}

    return app
