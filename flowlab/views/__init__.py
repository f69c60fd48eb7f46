"""The lab's pages, as thin blueprints over the domain modules."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every blueprint of the full lab (the sandbox registers its own)."""
    from . import advisor
    from . import callback
    from . import compare
    from . import exports
    from . import labs
    from . import pages
    from . import presenter
    from . import providers
    from . import runner
    from . import workshop

    for module in (pages, advisor, runner, callback, providers, workshop,
                   exports, presenter, compare, labs):
        app.register_blueprint(module.bp)
