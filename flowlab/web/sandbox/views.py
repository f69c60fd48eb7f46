"""The browser side of the sandbox: landing, authorize, login and consent pages.

Views only translate: the request becomes oauthlib's ``(uri, method, body,
headers)``, its ``(headers, body, status)`` becomes the response. Every redirect back
to the client carries ``iss`` (RFC 9207 §2); form posts are answered with 303
(RFC 9700 §4.12). An error goes back at once only to an app the user approved; for
any other, a page first names where it goes (RFC 9700 §4.11.2).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2.rfc6749 import errors

from flowlab.core.hosts import safe_next
from flowlab.sandbox import consents
from flowlab.sandbox import prompts
from flowlab.sandbox.par import InvalidRequestUri
from flowlab.sandbox.store import DB
from flowlab.sandbox.store import get_client
from flowlab.web.sandbox.context import catalogue
from flowlab.web.sandbox.context import current_user
from flowlab.web.sandbox.context import issuer
from flowlab.web.sandbox.context import oauth_server
from flowlab.web.sandbox.context import profile
from flowlab.web.sandbox.pushed import authorize_uri
from flowlab.web.sandbox.pushed import spend
from flowlab.web.sandbox.signin import auth_time
from flowlab.web.sandbox.signin import outcome
from flowlab.web.sandbox.signin import page_shown
from flowlab.web.sandbox.signin import sign_in
from flowlab.web.sandbox.signin import sign_out
from flowlab.web.security import allow_form_action

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

FATAL_TEXTS = {
    errors.MissingClientIdError: "Missing required parameter: client_id",
    errors.MissingRedirectURIError: "Missing required parameter: redirect_uri",
    errors.InvalidRedirectURIError: "INVALID_CLIENT: Invalid redirect URI",
}


@bp.get("/")
def index():
    """The sandbox's landing page: what it is, its users and endpoints."""
    return render_template(
        "sandbox/index.html", users=catalogue().users.values(), issuer=issuer(),
        profile=profile(),
    )


@bp.get("/authorize")
def authorize():
    """Step 1: the authorization request (RFC 6749 §4.1.1, §4.2.1)."""
    early, checked = _checked_request(302, login_page, prompted=True)
    if early is not None:
        return early
    server, uri, scopes, info, user = checked
    known = consents.granted_scopes(DB.get(), user["id"], info["client_id"])
    returning = known is not None and set(scopes) <= known
    asked = info["prompted"] == prompts.CONSENT  # OIDC Core §3.1.2.1
    if returning and request.args.get("show_dialog") != "true" and not asked:
        return finish(server, uri, scopes, user, 302)
    allow_form_action(_origin(info["redirect_uri"]))
    return render_template(
        "sandbox/consent.html", user=user, client=info["request"].client,
        scopes=catalogue().describe(scopes), redirect_uri=info["redirect_uri"],
        implicit=info["response_type"] == "token", action=request.full_path,
        redirect_host=urlsplit(info["redirect_uri"]).netloc,  # RFC 7591 §5
        unverified_marked=server.request_validator.unverified_marked(),
    )


@bp.post("/authorize")
def decide():
    """Step 2: the user agrees or cancels (RFC 6749 §4.1.2, §4.1.2.1)."""
    early, checked = _checked_request(
        303, lambda _redirect_uri: redirect(request.full_path, 303))
    if early is not None:
        return early
    server, uri, scopes, info, user = checked
    if request.form.get("decision") != "agree":
        # Spotify sends only error and state; the implicit denial comes in the query.
        denied = errors.AccessDeniedError(description="", request=info["request"])
        return error_redirect(denied, 303, fragment=False)
    consents.remember_consent(DB.get(), user["id"], info["client_id"], scopes)
    return finish(server, uri, scopes, user, 303)


def _checked_request(status: int, anonymous, prompted: bool = False):
    """Validate the authorization request and find the signed-in user.

    Returns ``(response, None)`` when the answer is already known: an error page for
    an untrusted client or redirect URI (RFC 6749 §4.1.2.1), ``anonymous(uri)`` for a
    visitor not signed in yet, or an error redirect. Else ``(None, (server, uri,
    scopes, info, user))``. With ``prompted``, OpenID Connect's ``prompt`` and
    ``max_age`` may ask for the sign-in page or answer with their errors (OIDC Core
    §3.1.2.1, §3.1.2.6); what they ask is in ``info["prompted"]``.
    """
    server = oauth_server()
    try:
        uri = authorize_uri()  # a pushed request's parameters (RFC 9126 §4)
        scopes, info = server.validate_authorization_request(uri, "GET")
    except errors.FatalClientError as exc:
        return error_page(exc), None
    except errors.OAuth2Error as exc:
        if current_user() is None:
            return anonymous(exc.redirect_uri), None
        return send_error(exc, status), None
    user = current_user()
    info["prompted"] = prompted and outcome(info, scopes, user)
    if info["prompted"] == prompts.LOGIN:
        return login_page(info["redirect_uri"]), None
    if info["prompted"] not in (None, False, prompts.CONSENT):
        exc = errors.CustomOAuth2Error(info["prompted"], request=info["request"])
        return error_redirect(exc, status), None
    if user is None:
        return anonymous(info["redirect_uri"]), None
    return None, (server, uri, scopes, info, user)


@bp.post("/login")
def login():
    """Sign in as a demo user with one click; no passwords in the sandbox."""
    user = request.form.get("user", "")
    if user not in catalogue().users:
        abort(400, description="Pick one of the demo users.")
    sign_in(user)
    return redirect(safe_next(request.form.get("next"), "/sandbox/"), 303)


@bp.post("/logout")
def logout():
    """Sign the demo user out, to pick the other one."""
    sign_out()
    return redirect(safe_next(request.form.get("next"), "/sandbox/"), 303)


def login_page(redirect_uri: str | None):
    """The login page, shown at the authorize URL until a demo user is picked."""
    if redirect_uri:
        allow_form_action(_origin(redirect_uri))
    page_shown()
    return render_template(
        "sandbox/login.html", users=catalogue().users.values(), next=request.full_path
    )


def finish(server, uri: str, scopes: list[str], user: dict, status: int):
    """Issue the code or token and send the browser back (RFC 6749 §4.1.2, §4.2.2);
    a pushed request is used up here (RFC 9126 §4)."""
    if not spend():
        return error_page(InvalidRequestUri())
    headers, _, _ = server.create_authorization_response(
        uri, "GET", scopes=scopes,
        credentials={"user": user["id"], "auth_time": auth_time()})
    return redirect(with_iss(headers["Location"]), status)


def send_error(exc: errors.OAuth2Error, status: int):
    """An error for the app: at once if the user approved it, else after a page that
    says where it goes, with Continue and Cancel (RFC 9700 §4.11.2)."""
    approved = consents.granted_scopes(DB.get(), current_user()["id"], exc.client_id)
    confirmed = request.method == "POST" and request.form.get("decision") == "continue"
    if approved is not None or confirmed:
        return error_redirect(exc, status)
    allow_form_action(_origin(exc.redirect_uri))
    return render_template(
        "sandbox/leaving.html", redirect_uri=exc.redirect_uri, error=exc.error,
        client=get_client(DB.get(), exc.client_id), action=request.full_path,
    )


def error_redirect(exc: errors.OAuth2Error, status: int, fragment: bool | None = None):
    """An error sent back to a trusted redirect URI, with ``state`` and ``iss``."""
    if fragment is None:
        fragment = exc.response_type == "token"
    location = add_params_to_uri(exc.redirect_uri, exc.twotuples, fragment=fragment)
    return redirect(with_iss(location), status)


def error_page(exc: errors.FatalClientError):
    """Untrusted client or redirect URI: an error page, never a redirect."""
    text = FATAL_TEXTS.get(type(exc), exc.description)
    return render_template("sandbox/error.html", message=text), 400


def with_iss(location: str) -> str:
    """Add ``iss`` where the response's other parameters are (RFC 9207 §2),
    unless the issuer's validator says this response names none (a lab's weak
    issuer, through its ``names_issuer``; the sandbox's validator has none)."""
    names = getattr(oauth_server().request_validator, "names_issuer", None)
    if names is not None and not names():
        return location
    fragment = bool(urlsplit(location).fragment)
    return add_params_to_uri(location, [("iss", issuer())], fragment=fragment)


def _origin(uri: str) -> str:
    """The CSP source for a redirect URI: its origin, or its private-use scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"
