"""Security practices shared by every page: headers, CSRF, URL rules, masking.

The app teaches OAuth security, so it practises it: a strict Content-Security-Policy
(RFC 9700 §4.16 framing rules included), CSRF tokens on every form, plain HTTP only for
loopback (RFC 8252 §7.3, RFC 9700 §2.6), and same-origin-only ``next`` values
(RFC 9700 §4.11.1).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask import session
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import ServiceUnavailable

from flowlab.core.hosts import constant_time_equal
from flowlab.core.redact import mask

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# The OAuth endpoints of every sandbox issuer (/sandbox, /sandbox/best-practice,
# a lab's /sandbox/lab-…): the token API, authorize, and the device pages.
OAUTH_PATH = re.compile(r"/sandbox(?:/[\w.-]+)*?/(?:api/|authorize\b|device\b)")
TOKEN_API = re.compile(r"/sandbox(?:/[\w.-]+)*?/api/")


def init_app(app: Flask) -> None:
    # requests-oauthlib and oauthlib refuse http:// unless this is set. The app
    # decides for itself, in core.hosts.allows_plain_http(), before any URL is used.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app.before_request(_limit_body)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(OperationalError, _database_away)
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD
    app.jinja_env.globals["allow_connect"] = allow_connect
    app.jinja_env.filters["mask"] = mask


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_exempt(view: Callable) -> Callable:
    """Mark a view that takes POSTs from other clients (token, revocation, API)."""
    view.csrf_exempt = True
    return view


def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "csrf_exempt", False):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    expected = session.get("csrf", "")
    if not expected or not constant_time_equal(sent, expected):
        abort(400, description="This form has expired or did not come from this site. "
              "Go back, reload the page and try again.")


def _body_limit() -> int:
    """64 KB at the OAuth endpoints, 1 MB elsewhere (both configurable)."""
    config = current_app.config
    if OAUTH_PATH.match(request.path):
        return config["OAUTH_MAX_CONTENT_LENGTH"]
    return config["MAX_CONTENT_LENGTH"]


def _limit_body() -> None:
    """Refuse a body over the limit before reading it; a chunked one (no length)
    is cut off by Werkzeug when it grows past the limit while being read."""
    limit = request.max_content_length = _body_limit()
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def _too_large(error: RequestEntityTooLarge):
    """413 in the shape the client expects."""
    limit = _body_limit()
    size = f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit} bytes"
    size = f"{limit // 1048576} MB" if limit % 1048576 == 0 else size
    error.description = (f"The request body is larger than {size}, the most this "
                         "address accepts. Send less.")
    return _in_shape(error, "invalid_request")


def _database_away(error: OperationalError):
    """The database did not answer (a restart, say): 503 with Retry-After, so a
    client tries again in a moment (RFC 9110 §15.6.4), not a 500."""
    current_app.logger.warning("The database did not answer: %s", error.orig)
    away = ServiceUnavailable("The database did not answer for a moment. Nothing "
                              "you typed was lost: try again.", retry_after=1)
    return _in_shape(away, "temporarily_unavailable")


def _in_shape(error: HTTPException, oauth_error: str):
    """An error in the shape the client expects: OAuth JSON on the token endpoint
    (RFC 6749 §5.2), Spotify's API error JSON, or the lab's error page."""
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    if TOKEN_API.match(request.path):
        return ({"error": oauth_error, "error_description": error.description},
                error.code, headers | {"Cache-Control": "no-store",
                                       "Pragma": "no-cache"})
    if request.path.startswith("/sandbox/v1/"):
        body = {"error": {"status": error.code, "message": error.description}}
        return body, error.code, headers
    generic = current_app.error_handler_spec[None][None].get(HTTPException)
    return generic(error) if generic else error


def allow_form_action(origin: str) -> None:
    """Let this response's forms lead to ``origin`` (a consent page's redirect)."""
    g.setdefault("form_action", []).append(origin)


def allow_framing() -> None:
    """Let any site frame this response: a lab issuer's weakness only
    (``framable_consent``, RFC 9700 §4.16); every other page refuses."""
    g.framable = True


def allow_connect(url: str) -> str:
    """Let this response's scripts fetch ``url``'s origin (a single-page-app run's
    token endpoint); returns "" so a template can call it."""
    parts = urlsplit(url)
    g.setdefault("connect_src", []).append(f"{parts.scheme}://{parts.netloc}")
    return ""


def csp_widened() -> bool:
    """Whether this response's policy lets in more than the site's own (a page
    that widens it is not for keeping: ``flowlab.web.stepcache``)."""
    return bool(g.get("connect_src") or g.get("form_action") or g.get("framable"))


def _headers(form_action: list, connect_src: list, framable: bool) -> tuple:
    """The security headers of a response, in the order they are added: its CSP
    (with what it let in), then the fixed ones."""
    connect = " ".join(["'self'", *connect_src])
    forms = " ".join(["'self'", *form_action])
    framing = "" if framable else "; frame-ancestors 'none'"
    policy = ("default-src 'self'; script-src 'self'; style-src 'self'; "
              f"img-src 'self' data:; connect-src {connect}; object-src 'none'; "
              f"base-uri 'none'; form-action {forms}{framing}")
    return tuple((name.lower(), name, value) for name, value in (
        ("Content-Security-Policy", policy),
        *(() if framable else (("X-Frame-Options", "DENY"),)),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=()")))


SITE_HEADERS = _headers([], [], False)  # most responses: worked out once


def _set_headers(response):
    """Each security header the view did not set itself."""
    wanted = SITE_HEADERS if not csp_widened() else _headers(
        g.get("form_action", []), g.get("connect_src", []), bool(g.get("framable")))
    present = set(response.headers.keys(lower=True))
    response.headers.extend([(name, value) for lower, name, value in wanted
                             if lower not in present])
    if request.args.get("reveal") == "1":  # secrets shown in full: keep no copy
        response.headers["Cache-Control"] = "no-store"
    return response
