"""The runner's callback: the browser back from the authorization server.

The redirect arrives here (RFC 6749 §4.1.2), or, for the implicit grant, a page whose
script posts the fragment (§4.2.2). A redirect is taken only by the waiting run whose
``state`` it carries, at the callback path that run's request named (RFC 9700
§4.4.2.2); then the engine checks ``iss``. One that matches no run changes nothing
(RFC 6749 §10.12): a guessed ``state`` cannot stop someone's run.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from flowlab.core.content import render_markdown
from flowlab.core.demo import CALLBACK_PATH
from flowlab.core.http import Message
from flowlab.core.http import from_wsgi
from flowlab.core.runner import engine
from flowlab.core.runner import store
from flowlab.core.runner.callbacks import KEY_LENGTH
from flowlab.core.runner.callbacks import arrived_where_sent
from flowlab.web.session import browser_id
from flowlab.web.session import get_content
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("callback", __name__)


@bp.get(CALLBACK_PATH)
@bp.get(CALLBACK_PATH + f"/<string(length={KEY_LENGTH}):key>")
def callback(key: str | None = None):
    """Step: the browser comes back from the authorization server (RFC 6749 §4.1.2)."""
    waiting = store.waiting(browser_id(), secret_box())
    here = [r for r in waiting if arrived_where_sent(r, request.path)]
    pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True)
    if not pairs:  # the answer may be in the fragment (RFC 6749 §4.2.2)
        return _fragment_page(runner().awaiting_fragment(here))
    state = dict(pairs).get("state")
    run = engine.match_state(here, state)
    taken = None if run else _already_taken(state)
    if taken is not None:  # the same redirect again (a retry): back to its run
        return redirect(url_for("runner.show", run_id=taken.id, _anchor="top"), 303)
    if run is None:  # nothing changes: every waiting run keeps waiting
        elsewhere = engine.match_state(waiting, state) is not None
        return render_template("runner/no_run.html", waiting=waiting,
                               elsewhere=elsewhere), 400
    runner().receive(run, _received_request(), pairs, request.base_url,
                     secret_box())
    if run.options.get("branch"):  # an edited request's answer: beside the original
        return redirect(url_for("branch.beside", run_id=run.id), 303)
    return redirect(url_for("runner.show", run_id=run.id, _anchor="top"), 303)


def _fragment_page(runs: list):
    """A page whose script reads the fragment: every run waiting for a fragment
    keeps the request that brought the browser here, to show it without it."""
    if not runs:
        return render_template("runner/no_run.html"), 400
    for run in runs:
        run.secrets["callback_request"] = _received_request().to_json()
        run.secrets["callback_path"] = request.path
        store.save(run, secret_box())
    return render_template("runner/fragment.html", texts=get_content().data("runner"),
                           md=render_markdown, runs=runs)


@bp.post(CALLBACK_PATH + "/fragment")
def fragment():
    """Receive the fragment that the callback page's script read (RFC 6749 §4.2.2).

    The script sends the CSRF token in a header; the app-wide check covers it.
    """
    data = request.get_json(silent=True)
    text = data.get("fragment") if isinstance(data, dict) else None
    if not isinstance(text, str):
        abort(400, description="Expected JSON with the fragment as a string.")
    pairs = parse_qsl(text, keep_blank_values=True)
    waiting = [r for r in store.waiting(browser_id(), secret_box())
               if arrived_where_sent(r, r.secrets.get("callback_path"))]
    run = engine.match_state(waiting, dict(pairs).get("state"))
    taken = None if run else _already_taken(dict(pairs).get("state"))
    if taken is not None:  # posted again (a retry): the run took it already
        return {"next": url_for("runner.show", run_id=taken.id)}
    if run is None:  # nothing changes: the run keeps waiting for its own answer
        abort(400, description="This fragment belongs to none of your waiting runs "
              "(its state is not one they sent), so none of them changed.")
    path = run.secrets.pop("callback_path")
    received = Message.from_json(run.secrets.pop("callback_request"))
    runner().receive(run, received, pairs, request.url_root.rstrip("/") + path,
                     secret_box())
    return {"next": url_for("runner.show", run_id=run.id)}


def _already_taken(state: str | None):
    """This browser's run that already took a redirect carrying ``state``: the
    worker that took it may have died before answering, and the browser asks
    again. Nothing changes; the browser is led to the run's current step."""
    owned = store.owned(browser_id(), box=secret_box())
    return engine.match_state(owned, state, key="taken_state")


def _received_request() -> Message:
    """The callback request as this server received it; the session cookie, which
    would let anyone act as this browser, is left out."""
    return from_wsgi(request.environ)
