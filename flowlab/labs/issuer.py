"""Lab-only issuers: ``/sandbox/lab-<id>``, the sandbox with a lab's settings override.

Only a lab whose vulnerable variant says ``issuer = "lab"`` gets one, from the
sandbox's public API (``Sandbox.add_issuer``), and only that lab's own clients may
use it: the sandbox's endpoints, metadata and apps are left as they are. Overrides
(the variant's ``server`` table) understood here:

- ``single_use_codes = false``: a used code is accepted again and nothing is
  revoked, as RFC 6749 §4.1.2 forbids (lab "code-replay").
- ``redirect_pattern = "<glob>"``: the issuer also serves the sandbox's authorize
  pages at its path, and accepts any redirect URI matching the pattern, as a server
  that lets clients register wildcards would (RFC 9700 §4.1.1; lab "redirect-uri").
- ``device_context = false``: the device approval page says only "Approve
  device?": not which app asks, nor from where or when (RFC 8628 §5.4; lab
  "device-code-phishing").
- ``framable_consent = true``: any site may frame the authorize pages, with no
  ``frame-ancestors`` or ``X-Frame-Options`` (RFC 9700 §4.16; lab
  "consent-clickjacking").
- ``registration_fetch = true`` and ``registration_unverified_marked = false``:
  the issuer offers open registration (RFC 7591), fetches a registered
  ``logo_uri`` and shows what it got (``weakreg``), and its consent page shows an
  app that registered itself as any other (RFC 7591 §5; lab "registration-abuse").
  Apps registered there are its clients too.
- ``opener_policy = "unsafe-none"``: the issuer's answers carry this
  ``Cross-Origin-Opener-Policy`` in place of the sandbox's ``same-origin``, as
  most servers send none: a window it redirects keeps its opener (lab
  "proxy-page").
- ``iss_parameter = false``: authorization responses carry no ``iss``, so a
  client cannot tell which server answered (RFC 9207 §2, RFC 9700 §4.4).
- ``refresh_rotation``: true, a public client's refresh token is replaced at each
  refresh and a retired one replayed revokes the grant (RFC 9700 §4.14.2); false,
  it never is (lab "refresh-replay" against the learner's weak server).

And these, checked in ``flowlab.labs.weak_checks``:

- ``redirect_match = "prefix"``: a redirect URI is accepted if a registered one
  is its prefix (the loopback port aside), so ``…/callback/../page/go?to=…``
  passes (the attack of RFC 9700 §4.1.1; §4.1.3 requires exact matching; lab
  "open-redirect", "proxy-page").
- ``pkce_optional = true``: PKCE is not required, even of a public client, and a
  code issued with a challenge is redeemed without a verifier (RFC 9700 §4.8,
  §2.1.1; lab "pkce-downgrade").
- ``pkce_plain = true``: ``code_challenge_method=plain`` is accepted, so anyone
  who read the authorization request knows the verifier (RFC 9700 §2.1.1, RFC
  7636 §7.2; lab "pkce-downgrade").
- ``scope_check = false``: a token or refresh request may ask for more scope
  than the user granted, up to every scope the server has (RFC 6749 §3.3, §6;
  lab "scope-upgrade").

An issuer with any of the page overrides (``PAGES``: the device, framing and
registration ones, and the PKCE and redirect switches, which act at authorize)
serves its own authorize and device pages; its pages take only its own clients'
codes and requests.

The learner's weak server (``weak_issuer``) is this same validator, its override
looked up per request from the client's configuration.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from oauthlib.oauth2.rfc6749 import errors

from flowlab.labs import weakreg
from flowlab.labs.catalogue import Lab
from flowlab.labs.client import credentials
from flowlab.labs.weak_checks import WeakChecks
from flowlab.sandbox.public import IssuerProfile
from flowlab.sandbox.public import Sandbox

HEADERS = {"X-Flowlab-Lab": "vulnerable issuer"}
# Overrides about the issuer's own browser pages, or acting at authorize: such an
# issuer serves the authorize and device pages at its own path.
REGISTRATION = ("registration_fetch", "registration_unverified_marked")
PAGES = ("redirect_pattern", "redirect_match", "pkce_optional", "pkce_plain",
         "device_context", "framable_consent", *REGISTRATION)


class LabValidator(WeakChecks):
    """The sandbox's validator with one lab's override, for that lab's clients only."""

    clients: frozenset[str] = frozenset()
    owner: str = ""  # of the apps registered at this issuer

    def _only_lab_clients(self, client_id, request, error=errors.InvalidClientError):
        registered = getattr(getattr(request, "client", None), "owner", None)
        if client_id not in self.clients and registered != self.owner:
            raise error(description="Only this lab's clients may use its issuer",
                        request=request)
        return True

    def authenticate_client(self, request, *args, **kwargs):
        """As the sandbox, then: only this lab's clients (RFC 6749 §2.3)."""
        super().authenticate_client(request, *args, **kwargs)
        return self._only_lab_clients(request.client.client_id, request)

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """A public client: as the sandbox, then only this lab's (RFC 6749 §3.2.1)."""
        super().authenticate_client_id(client_id, request, *args, **kwargs)
        return self._only_lab_clients(request.client.client_id, request)

    def validate_client_id(self, client_id, request, *args, **kwargs):
        """As the sandbox, then: only this lab's clients (RFC 6749 §4.1.2.1)."""
        super().validate_client_id(client_id, request, *args, **kwargs)
        return self._only_lab_clients(client_id, request, errors.InvalidClientIdError)

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """With ``redirect_pattern``, any URI the pattern matches (the weakness
        RFC 9700 §4.1.1 describes); else ``WeakChecks``: by prefix, or exactly."""
        pattern = self.overrides.get("redirect_pattern")
        if pattern and fnmatch.fnmatchcase(redirect_uri or "", pattern):
            return True
        return super().validate_redirect_uri(client_id, redirect_uri, request)

    def serves_client(self, client_id: str) -> bool:
        """Its pages take only this lab's clients' codes (RFC 8628 §3.3)."""
        return client_id in self.clients

    def device_context(self) -> bool:
        """With ``device_context = false``, "Approve device?" and nothing else:
        the weakness RFC 8628 §5.4 warns of."""
        return bool(self.overrides.get("device_context", True))

    def may_frame_pages(self, client_id: str | None) -> bool:
        """With ``framable_consent = true``, any site may frame the consent page
        (the weakness of RFC 9700 §4.16, RFC 6749 §10.13)."""
        return bool(self.overrides.get("framable_consent", False))

    def unverified_marked(self) -> bool:
        """With ``registration_unverified_marked = false``, a registered app's
        name shows on the consent page as if verified (RFC 7591 §5)."""
        return bool(self.overrides.get("registration_unverified_marked", True))

    def registration_owner(self) -> str:
        return self.owner

    def registration_extras(self, metadata: object) -> dict:
        """With ``registration_fetch = true``, what ``logo_uri`` gave (SSRF)."""
        return weakreg.fetched(metadata) if self.overrides.get(
            "registration_fetch") else {}

    def refuse_used_code(self, record, request) -> None:
        """With ``single_use_codes = false``, a code is never refused as used and
        nothing is revoked (the vulnerability RFC 6749 §4.1.2 forbids)."""
        if self.overrides.get("single_use_codes", True):
            super().refuse_used_code(record, request)


    def names_issuer(self) -> bool:
        """``iss`` in the authorization response unless ``iss_parameter = false``
        (RFC 9207 §2; the sandbox's pages ask this of a lab issuer)."""
        return bool(self.overrides.get("iss_parameter", True))

    def rotate_refresh_token(self, request):
        """With ``refresh_rotation`` set, rotation as it says for public clients
        (RFC 9700 §4.14.2); else as the issuer's settings say."""
        rotate = self.overrides.get("refresh_rotation")
        if rotate is None:
            return super().rotate_refresh_token(request)
        return bool(rotate) and not request.client.confidential


def add_issuers(sandbox: Sandbox, labs: dict[str, Lab], config: Mapping) -> None:
    """An issuer for each lab that has one; authorize pages too for those whose
    override is about redirect URIs."""
    for lab in (lab for lab in labs.values() if lab.uses_lab_issuer()):
        lab_variants = [v for v in lab.variants.values() if v.issuer == "lab"]
        validator = type("LabValidator", (LabValidator,), {
            "overrides": lab_variants[0].server, "owner": f"lab-{lab.id}",
            "clients": frozenset(credentials(config, lab.id, v.name)[0]
                                 for v in lab_variants)})
        profile = IssuerProfile(
            id=f"lab-{lab.id}", path=f"/sandbox/lab-{lab.id}",
            name=f"Lab issuer: {lab.title}", label="lab only, vulnerable",
            registration=any(k in lab_variants[0].server for k in REGISTRATION))
        server = lab_variants[0].server
        paged = any(key in v.server for v in lab.variants.values() for key in PAGES)
        headers = {**HEADERS, **({"Cross-Origin-Opener-Policy": server[
            "opener_policy"]} if "opener_policy" in server else {})}
        sandbox.add_issuer(profile, validator, pages=paged, headers=headers)
