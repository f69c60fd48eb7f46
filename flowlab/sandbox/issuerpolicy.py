"""What an issuer's pages show and its registration does, as its validator's methods.

The sandbox's own issuers keep these defaults: the device approval page names the
client and where and when the device asked (RFC 8628 §5.4), the consent page may
not be framed (RFC 9700 §4.16) and marks an app that registered itself as
unverified (RFC 7591 §5), a registration fetches nothing it is told to, and any
registered client's code may be entered. An issuer added through
``Sandbox.add_issuer`` (a lab's) may pass a validator that overrides one of them, as
it overrides a check.
"""

from __future__ import annotations


class IssuerPolicy:
    """The defaults of the sandbox's own issuers."""

    def device_context(self) -> bool:
        """Show who asks, from where and when on the device approval page, and
        ask whether the user started it (draft-ietf-oauth-cross-device-security)."""
        return True

    def may_frame_pages(self, client_id: str | None) -> bool:
        """Let other sites frame the authorize pages of ``client_id``'s request
        (RFC 9700 §4.16 says never)."""
        return False

    def serves_client(self, client_id: str) -> bool:
        """Whether this issuer's pages take a code or request of ``client_id``."""
        return True

    def unverified_marked(self) -> bool:
        """Mark an app that registered itself as unverified on the consent page,
        with where it sends the user back (RFC 7591 §5)."""
        return True

    def registration_owner(self) -> str | None:
        """Whose the apps registered here are; None: the sandbox's own."""
        return None

    def registration_extras(self, metadata: object) -> dict:
        """Members added to a registration's answer (RFC 7591 §3.2.1): none."""
        return {}
