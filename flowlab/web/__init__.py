"""The lab's pages, as thin blueprints over the domain modules, and what every
page shares: the error pages and the helpers the templates call."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    """Register every blueprint of the full lab (the sandbox registers its own),
    then the app-wide parts here, not in a blueprint's hook: a blueprint taken
    out takes only its own routes with it."""
    from flowlab.web import advisor
    from flowlab.web import branch
    from flowlab.web import callback
    from flowlab.web import compare
    from flowlab.web import console
    from flowlab.web import exercises
    from flowlab.web import exports
    from flowlab.web import inspect
    from flowlab.web import keep
    from flowlab.web import labs
    from flowlab.web import pages
    from flowlab.web import presenter
    from flowlab.web import providers
    from flowlab.web import report_card
    from flowlab.web import room
    from flowlab.web import runner
    from flowlab.web import share
    from flowlab.web import weak_server
    from flowlab.web import workbench
    from flowlab.web import workshop

    for module in (pages, advisor, runner, callback, providers, workshop,
                   exports, presenter, compare, console, labs, room, keep,
                   share, branch, inspect, workbench, report_card, weak_server):
        app.register_blueprint(module.bp)
    exercises.init_app(app)  # its blueprint, and its apps' traffic recorded
    app.register_error_handler(HTTPException, pages.error_page)
    app.context_processor(workshop.template_context)
    app.jinja_env.filters.update(public=providers.public,
                                 highlight_http=runner.highlight_http)
    app.jinja_env.globals.update(page_diagram=pages.page_diagram,
                                 qr_svg=presenter.qr_svg,
                                 serve_command=presenter.serve_command)
