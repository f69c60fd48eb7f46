"""What must never reach the disk in the clear: client secrets and real providers'
tokens.

A browser's provider choice and the secrets of its runs against real providers are
kept in the shared database (``flowlab.vault``), so every process serving the lab
can use them; the secrets only sealed under the browser's own key
(``flowlab.sealing``). Never logged, never put in a URL. "Forget" or an idle hour
deletes them, and so does losing the key: the learner then types them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from flask import g
from flask import has_request_context
from flask import session

from . import sealing
from . import vault
from .profiles import Provider


@dataclass
class Choice:
    """A browser's chosen provider profile and, for confidential flows, its secret."""

    provider: Provider
    secret: str | None = field(default=None, repr=False)


def browser() -> str | None:
    """This browser's random id (made by ``views.providers.browser_id``); None
    outside a request, where no browser (and no key to seal with) exists."""
    return session.get("browser") if has_request_context() else None


class Choices:
    """Each browser's provider choice; the client secret sealed for that browser."""

    def get(self, browser: str | None) -> Choice | None:
        if not browser:
            return None
        if g.get("flowlab_choice", (None,))[0] != browser:  # once per request
            found = vault.get_choice(browser)
            choice = found and Choice(found[0], sealing.unseal(
                sealing.browser_key(), found[1], f"choice {browser}"))
            g.flowlab_choice = (browser, choice)
        return g.flowlab_choice[1]

    def put(self, browser: str, choice: Choice) -> None:
        sealed = None
        if choice.secret is not None:
            key = sealing.browser_key(create=True)
            sealed = sealing.seal(key, choice.secret, f"choice {browser}")
        vault.put_choice(browser, choice.provider, sealed)
        g.flowlab_choice = (browser, choice)

    def forget(self, browser: str | None) -> None:
        """The choice and the secrets of every run of this browser."""
        if browser:
            vault.forget(browser)
        g.pop("flowlab_choice", None)

    def __repr__(self) -> str:  # never show secrets in a traceback or a log
        return "<Choices in the shared database>"


class RunSecrets:
    """A real provider's run secrets by run id, sealed for the browser that owns it."""

    def put(self, run: str, value: dict) -> None:
        owner = browser()
        if owner:
            sealed = sealing.seal(sealing.browser_key(create=True), value,
                                  f"run {run} {owner}")
            vault.put_sealed(run, owner, sealed)

    def get(self, run: str) -> dict | None:
        owner = browser()
        if not owner:
            return None
        return sealing.unseal(sealing.browser_key(), vault.get_sealed(run, owner),
                              f"run {run} {owner}")

    def __repr__(self) -> str:
        return "<RunSecrets in the shared database>"
