"""What must never reach the disk in the clear: client secrets and real providers'
tokens.

A browser's provider choice and the secrets of its runs against real providers are
kept in the shared database (``flowlab.core.vault``), so every process serving the lab
can use them; the secrets only sealed under the browser's own key
(``flowlab.core.secrets``; the web side's ``flowlab.web.session`` holds the cookie).
Never logged, never put in a URL. "Forget" or an idle hour deletes them, and so does
losing the key: the learner then types them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from flowlab.core.provider import Provider


@dataclass
class Choice:
    """A browser's chosen provider profile and, for confidential flows, its secret."""

    provider: Provider
    secret: str | None = field(default=None, repr=False)
