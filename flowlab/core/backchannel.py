"""The private back channel's mark: how a request that came in on it is known.

``flowlab.serving`` serves the sandbox on a private loopback port too, for the
runner's own calls, and marks each request that arrives there in its WSGI environ
under ``KEY``. A client cannot set it: request headers arrive only as HTTP_* keys.
Served without one (``flask run``, a bare WSGI server), the runner calls the sandbox
at its public address, and ``note_missing`` says so once per app and process.
"""

from __future__ import annotations

import weakref

KEY = "flowlab.core.backchannel"
_noted: weakref.WeakSet = weakref.WeakSet()  # the apps already warned


def tagged(app):
    """``app`` with its requests marked as having come in on the private listener."""

    def tagged(environ, start_response):
        environ[KEY] = True
        return app(environ, start_response)

    return tagged


def note_missing(app) -> None:
    """Say once per process that the runner will call the sandbox publicly."""
    if app.config.get("SANDBOX_BACKCHANNEL_URL") or app in _noted:
        return
    _noted.add(app)
    app.logger.warning(
        "No private back channel in this process (not started by app.py): the "
        "runner calls the sandbox at its public address, which needs a threaded "
        "server and can stall when every thread waits on a runner step.")
