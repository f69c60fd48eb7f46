"""The JWT workbench (``/inspect/jwt``) and "explain this value"
(``/inspect/value``): plain forms that POST and render the answer; nothing pasted
is kept or logged (issue 22 part 3)."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import render_template
from flask import request

from flowlab.core import outbound
from flowlab.core.inspect import jwks
from flowlab.core.inspect import workbench
from flowlab.core.redact import JWT
from flowlab.core.redact import mask
from flowlab.core.redact import secret_field
from flowlab.core.runner.present import lookup
from flowlab.web.providers import remote_requester
from flowlab.web.session import get_content
from flowlab.web.session import runner

bp = Blueprint("workbench", __name__)


@bp.route("/inspect/jwt", methods=["GET", "POST"])
def jwt_page():
    verdict = error = None
    if request.method == "POST":
        verdict, error = _verify(request.form)
    glossary = get_content().data("glossary")
    explained = {}
    if verdict is not None:
        explained = {part: [(name, _shown(name, value), lookup(glossary, "json", name))
                            for name, value in getattr(verdict, part).items()]
                     for part in ("header", "claims")}
    return render_template("inspect/workbench.html", verdict=verdict, error=error,
                           explained=explained, fetch=bool(request.form.get("fetch")))


def _verify(form) -> tuple:
    """The verdict on the pasted token, or an error sentence about the keys."""
    token = "".join(form.get("token", "").split())
    unchecked = jwks.verify(token, [], "")
    if not unchecked.header:  # not a JWS: said before any key is read
        return unchecked, None
    keys, sources = [], []
    try:
        if form.get("key", "").strip():
            keys += jwks.keys_from_text(form["key"])
            sources.append("the pasted keys")
        if form.get("secret", ""):
            keys.append(jwks.secret_jwk(form["secret"]))
            sources.append("the pasted secret")
        if form.get("fetch"):
            iss = unchecked.claims.get("iss")
            settings = runner().settings
            with outbound.limits(settings.deadline, remote_requester()):
                found, where = jwks.issuer_keys(iss, settings.timeout)
            keys += found
            sources.append(where)
    except ValueError as exc:
        return None, str(exc)
    return jwks.verify(token, keys, " and ".join(sources)), None


def _shown(name: str, value) -> str:
    """A claim's value as the page shows it: a JWT inside, or a value under a
    credential's name (``redact``'s rules), masked."""
    if not isinstance(value, str):
        return json.dumps(value)
    return mask(value) if JWT.search(value) or secret_field(name, "") else value


@bp.route("/inspect/value", methods=["GET", "POST"])
def value_page():
    texts = get_content().data("inspect/workbench")
    what = request.form.get("what") or request.args.get("what", "")
    what = what if what in texts["values"] else "s256"
    worked = None
    if request.method == "POST":
        worked = workbench.work_out(what, request.form, texts)
    return render_template("inspect/value.html", texts=texts, what=what,
                           worked=worked, values=texts["values"])
