"""The JWT workbench (``/inspect/jwt``) and "explain this value"
(``/inspect/value``): plain forms that POST and render the answer; nothing pasted
is kept or logged (issue 22 part 3)."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import make_response
from flask import render_template
from flask import request

from flowlab.core import outbound
from flowlab.core.inspect import issuer_keys
from flowlab.core.inspect import jwks
from flowlab.core.inspect import workbench
from flowlab.core.redact import JWT
from flowlab.core.redact import mask
from flowlab.core.redact import secret_field
from flowlab.core.runner.present import lookup
from flowlab.web.providers import remote_requester
from flowlab.web.security import csrf_exempt
from flowlab.web.session import get_content
from flowlab.web.session import runner

bp = Blueprint("workbench", __name__)


@bp.route("/inspect/jwt", methods=["GET", "POST"])
def jwt_page():
    verdict = error = None
    if request.method == "POST":
        verdict, error = _verify(request.form)
    explained = _explained(verdict) if verdict is not None else {}
    return render_template("inspect/workbench.html", verdict=verdict, error=error,
                           explained=explained, fetch=bool(request.form.get("fetch")))


def _explained(verdict) -> dict:
    """The header's and the claims' members, each with its glossary entry (the
    runner's one source of explanations)."""
    glossary = get_content().data("glossary")
    return {part: [(name, _shown(name, value), lookup(glossary, "json", name))
                   for name, value in getattr(verdict, part).items()]
            for part in ("header", "claims")}


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
                found, where = issuer_keys.issuer_keys(iss, settings.timeout)
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


API_LIMIT = 64 * 1024  # bytes of JSON a call may send (as /api/inspect)


def _body() -> dict:
    """The call's JSON object, its string members (``fetch`` as a flag); 400 for
    malformed JSON, 413 over ``API_LIMIT``, as JSON errors."""
    if (request.content_length or 0) > API_LIMIT:
        abort(_error(413, _texts()["too_large"].format(size=API_LIMIT // 1024)))
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        abort(_error(400, _texts()["not_an_object"]))
    fields = {k: v for k, v in body.items() if isinstance(v, str)}
    return fields | ({"fetch": "on"} if body.get("fetch") is True else {})


def _texts() -> dict:
    return get_content().data("inspect/workbench")["api"]


def _error(status: int, message: str):
    return make_response(jsonify(error=message), status)


def _pairs(rows: list) -> list[dict]:
    return [{"label": label, "value": value} for label, value in rows]


@bp.post("/api/inspect/jwt")
@csrf_exempt
def jwt_api():
    """``{"token", "key", "secret", "fetch"}`` → the verdict as JSON."""
    verdict, error = _verify(_body())
    if error:
        return _error(400, error)
    keys = [{k: line[k] for k in ("kid", "kty", "alg", "outcome", "why")}
            for line in verdict.tried]
    parts = [{"name": name, "value": shown, "explain": term and term["meaning"],
              "ref": term and term["rfc"]}
             for part in _explained(verdict).values() for name, shown, term in part]
    return jsonify(valid=verdict.valid, alg=verdict.header.get("alg"),
                   problem=verdict.problem or None, choice=verdict.choice or None,
                   source=verdict.source or None, keys=keys, parts=parts)


@bp.post("/api/inspect/value")
@csrf_exempt
def value_api():
    """``{"what", …the page's fields}`` → the value worked out, as JSON."""
    body = _body()
    worked = workbench.work_out(body.get("what", ""), body,
                                get_content().data("inspect/workbench"))
    if worked is None:
        names = ", ".join(workbench.WORKERS)
        return _error(400, _texts()["unknown_value"].format(names=names))
    if worked.error:
        return _error(400, worked.error)
    verdict = worked.verdict and {"ok": worked.verdict[0],
                                  "message": worked.verdict[1]}
    return jsonify(what=worked.what, steps=_pairs(worked.steps),
                   wrong=_pairs(worked.wrong), verdict=verdict, notes=worked.notes)
