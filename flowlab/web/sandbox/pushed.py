"""What the authorize pages take from a pushed authorization request (RFC 9126
§4): its parameters, and its one use. The rules are in ``flowlab.sandbox.par``."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request

from flowlab.sandbox import par
from flowlab.sandbox.store import DB
from flowlab.web.sandbox.context import settings


def _args() -> list[tuple[str, str]]:
    return list(request.args.items(multi=True))


def authorize_uri() -> str:
    """This authorization request's URL with the parameters it stands for: its
    own, or the pushed request's (§4); raises a fatal error for an error page."""
    params = par.authorization_params(DB.get(), settings(), _args())
    return request.base_url + ("?" + urlencode(params) if params else "")


def spend() -> bool:
    """Take the pushed request as its code is issued (§4); False if used."""
    return par.spend(DB.get(), settings(), _args())
