"""Pages: home, lessons, glossary, and friendly error pages for the whole app."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import get_template_attribute
from flask import jsonify
from flask import make_response
from flask import render_template
from flask import request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import SecurityError

from flowlab.core.content import Page
from flowlab.core.content import render_markdown
from flowlab.web.session import get_content

bp = Blueprint("pages", __name__)

# Glossary sections, in the order the page shows them; each gets the anchor "<kind>s".
KINDS = {"concept": "Concepts", "parameter": "Parameters", "header": "Headers",
         "field": "JSON fields"}


@bp.get("/")
def home():
    table = get_content().data("decision-table")
    return render_template("pages/home.html", table=table)


@bp.get("/lessons/")
def lessons():
    return render_template("pages/lessons.html", lessons=get_content().pages("lessons"))


@bp.get("/lessons/<slug>")
def lesson(slug: str):
    content = get_content()
    page = content.page(f"lessons/{slug}")
    if page is None:
        abort(404, description=f"There is no lesson called “{slug}”.")
    table = content.data("decision-table")
    flow = next((f for f in table["flows"] if f["id"] == page.meta.get("flow")), None)
    return render_template(
        [f"pages/{slug}.html", "pages/page.html"], page=page, flow=flow, table=table
    )


def page_diagram(page: Page) -> Markup:
    """A page's sequence diagram (front matter ``diagram``), drawn by the
    ``_sequence.html`` macro the first time and kept (``Content.diagram``)."""
    def draw(steps, label: str) -> str:
        return get_template_attribute("_sequence.html", "sequence")(steps, label=label)

    return get_content().diagram(page, draw)


@bp.get("/glossary")
def glossary():
    terms = get_content().data("glossary")
    sections = {kind: [] for kind in KINDS}
    for name in sorted(terms, key=lambda n: terms[n].get("title", n).casefold()):
        sections.setdefault(terms[name]["kind"], []).append((name, terms[name]))
    return render_template(
        "pages/glossary.html", sections=sections, kinds=KINDS, md=render_markdown
    )


def error_page(error: HTTPException):
    """Every HTTP error as a page with a way back (JSON under ``/api/``)."""
    code = error.code or 500
    description = error.description if code < 500 else (
        "Something went wrong on our side. Nothing you typed was lost: "
        "go back and try again."
    )
    if request.path.startswith("/api/"):
        response = jsonify(error=description, status=code)
    elif isinstance(error, SecurityError):  # an unknown Host: no URLs can be built
        response = make_response(f"{code} {error.name}: this lab does not answer to "
                                 "that host name.", {"Content-Type": "text/plain"})
    else:
        page = render_template(
            "pages/error.html", code=code, name=error.name, description=description
        )
        response = make_response(page)
    response.status_code = code
    kept = dict(error.get_headers())
    for name in ("Allow", "Retry-After"):
        if name in kept:
            response.headers[name] = kept[name]
    return response
