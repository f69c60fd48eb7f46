"""The lab-only issuer of every learner's weak server: ``/sandbox/lab-weak``.

Added through the sandbox's public API as every lab issuer is (``issuer``), with
its authorize pages and token endpoint. Its clients are the lab clients of the
saved configurations (``client.weak_credentials``): each id carries its
configuration, and the validator applies that configuration's switches to the
request, and only those (RFC 9700 §4). With no switch on it is a careful server:
the sandbox's checks, and refresh tokens rotated (RFC 9700 §4.14.2). No other
client may use it, and the sandbox's own issuers never see a switch.

One validator serves every learner, so the override of the request being answered
is kept per request (a context variable), set whenever the request names its client,
which every request does before any check a switch changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType

from oauthlib.oauth2.rfc6749 import errors

from flowlab.core.storage.db import LAB
from flowlab.labs import weak
from flowlab.labs.client import WEAK_PATH
from flowlab.labs.issuer import HEADERS
from flowlab.labs.issuer import LabValidator
from flowlab.sandbox.public import IssuerProfile
from flowlab.sandbox.public import Sandbox

# Where no switch says otherwise: the defences a careful server has on.
BASELINE = MappingProxyType({"refresh_rotation": True})
_NONE: Mapping = MappingProxyType({})
_current: ContextVar[Mapping] = ContextVar("weak_server_overrides", default=_NONE)


def configuration_of(client_id: str | None) -> str | None:
    """The configuration a weak server's client id carries, if it is one."""
    parts = (client_id or "").split("-")
    return parts[1] if len(parts) == 3 and parts[0] == "weak" else None


class WeakValidator(LabValidator):
    """The labs' validator, its override that of the requesting client's
    configuration."""

    switches: weak.Switches

    @property
    def overrides(self) -> Mapping:
        return _current.get()

    def switched(self, client_id: str | None) -> Mapping | None:
        """The override of the configuration ``client_id`` carries; None when it
        is no weak server's client."""
        configuration = configuration_of(client_id)
        found = configuration and weak.get(LAB.get(), configuration)
        if not found:
            return None
        return MappingProxyType({**BASELINE, **self.switches.overrides(found.switches)})

    def may_frame_pages(self, client_id: str | None) -> bool:
        """With "Framable consent" in the configuration ``client_id`` carries:
        asked before the request's checks, so read from it, never from the
        override another request left (RFC 9700 §4.16)."""
        found = self.switched(client_id)
        return bool(found and found.get("framable_consent", False))

    def _only_lab_clients(self, client_id, request, error=errors.InvalidClientError):
        """Only the clients of a saved configuration; the request's override is
        theirs from here on (RFC 6749 §2.3, §4.1.2.1)."""
        found = self.switched(client_id)
        _current.set(found or _NONE)
        if found is None:
            raise error(description="Only the lab clients of a saved weak server "
                        "may use its issuer", request=request)
        return True


def add_issuer(sandbox: Sandbox, switches: weak.Switches) -> None:
    """Serve the weak servers' issuer, authorize pages included."""
    validator = type("WeakValidator", (WeakValidator,), {"switches": switches})
    profile = IssuerProfile(id="lab-weak", path=WEAK_PATH,
                            name="Lab issuer: your weak server",
                            label="lab only, weak as you switched it")
    sandbox.add_issuer(profile, validator, pages=True, headers=HEADERS)
