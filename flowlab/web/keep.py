"""Import a run's JSON export back: the form, and the upload it sends.

The file is read and checked by ``flowlab.core.exports.importer`` and kept by
``flowlab.core.runner.imported``; this view only translates. A refused file, or one
over the size limit (413), answers with the form again and what was wrong.
"""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import RequestEntityTooLarge

from flowlab.core.exports import importer
from flowlab.core.runner import imported
from flowlab.web.session import app_config
from flowlab.web.session import browser_id
from flowlab.web.session import runner
from flowlab.web.session import secret_box

bp = Blueprint("keep", __name__)


def _limit() -> int:
    """The largest file an import takes: the body limit of the lab's pages."""
    return app_config()["MAX_CONTENT_LENGTH"]


def _form(error: str | None = None, status: int = 200):
    size = importer.size_of(_limit())
    return render_template("runner/import.html", error=error, size=size), status


@bp.get("/runs/import")
def form():
    return _form()


@bp.post("/runs/import")
def upload():
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _form("Choose a file first: a run's JSON export.", 400)
    raw = sent.stream.read(_limit() + 1)
    try:
        found = importer.read(raw, runner().flows, _limit())
    except importer.TooBig as refused:
        return _form(str(refused), 413)
    except importer.Refused as refused:
        return _form(str(refused), 400)
    owner = browser_id(create=True)
    run = imported.keep(owner, found, secret_box(), runner().settings.ttl)
    return redirect(url_for("runner.show", run_id=run.id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A body over the lab's limit, refused before it was read: the form again."""
    return _form(f"The file is too big: an import takes at most "
                 f"{importer.size_of(_limit())}.", 413)
