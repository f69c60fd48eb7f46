"""Downloads of a run's transcript: Markdown, curl, ``.http``, JSON and HAR."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from flowlab.core import exports
from flowlab.core.providers import is_sandbox
from flowlab.core.runner import orchestrate
from flowlab.web.runner import context
from flowlab.web.runner import load_run
from flowlab.web.session import addresses
from flowlab.web.session import get_content
from flowlab.web.session import runner

bp = Blueprint("exports", __name__)

# Content type of each format. HAR has no registered type; browsers save it as JSON.
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "sh": "application/x-sh; charset=utf-8",
    "http": "text/plain; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "har": "application/json; charset=utf-8",
}


@bp.get("/runs/<run_id>/export.<fmt>")
def download(run_id: str, fmt: str):
    """One export of the caller's run; ``?secrets=1`` unmasks, on the sandbox only."""
    if fmt not in exports.EXPORTERS:
        abort(404, description=f"There is no export called “{fmt}”.")
    run = load_run(run_id)
    reveal = request.args.get("secrets") == "1"
    if reveal and not is_sandbox(run.provider):
        abort(403, description="Secrets and tokens of a real provider stay masked in "
              "every export. Download it without “secrets=1”.")
    return send(run, fmt, reveal)


def send(run, fmt: str, reveal: bool = False) -> Response:
    """The run's export in ``fmt`` as a download, masked unless ``reveal``."""
    flow = runner().flow_of(run)
    redact = orchestrate.redactor(run, context(run, flow), reveal)
    extra = {"glossary": get_content().data("glossary")} if fmt == "md" else {}
    text = exports.EXPORTERS[fmt](run, flow, redact, where=addresses(run), **extra)
    response = Response(text, content_type=CONTENT_TYPES[fmt])
    filename = f"flowlab-{flow.id}-{run.id}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
