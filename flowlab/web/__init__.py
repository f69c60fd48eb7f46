"""The lab's pages, as thin blueprints over the domain modules."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every blueprint of the full lab (the sandbox registers its own) and
    the helpers its templates call."""
    from flowlab.web import advisor
    from flowlab.web import callback
    from flowlab.web import compare
    from flowlab.web import exports
    from flowlab.web import labs
    from flowlab.web import pages
    from flowlab.web import presenter
    from flowlab.web import providers
    from flowlab.web import runner
    from flowlab.web import workshop

    for module in (pages, advisor, runner, callback, providers, workshop,
                   exports, presenter, compare, labs):
        app.register_blueprint(module.bp)
    app.jinja_env.globals["page_diagram"] = pages.page_diagram
