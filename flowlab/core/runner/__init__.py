"""The live runner: flows as data, a step engine, runs kept in the lab's database."""

from __future__ import annotations

import logging

from flowlab.core.runner import actions  # noqa: F401  (registers every step action)
from flowlab.core.runner import device  # noqa: F401  (the device grant's action, RFC 8628)
from flowlab.core.runner import discover  # noqa: F401  (OpenID Connect Discovery §4)
from flowlab.core.runner import exchange  # noqa: F401  (RFC 8693 token exchange)
from flowlab.core.runner import fapi  # noqa: F401  (FAPI 2.0: PAR, DPoP, private_key_jwt)
from flowlab.core.runner import mcp  # noqa: F401  (the MCP flow's actions)
from flowlab.core.runner import tokenlife  # noqa: F401  (RFC 7662, RFC 7009)


def quiet_loggers() -> None:
    """requests-oauthlib logs tokens and secrets at DEBUG: keep those loggers quiet."""
    for name in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
