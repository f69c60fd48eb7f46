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
- ``iss_parameter = false``: authorization responses carry no ``iss``, so a
  client cannot tell which server answered (RFC 9207 §2, RFC 9700 §4.4).
- ``refresh_rotation``: true, a public client's refresh token is replaced at each
  refresh and a retired one replayed revokes the grant (RFC 9700 §4.14.2); false,
  it never is (lab "refresh-replay" against the learner's weak server).

The learner's weak server (``weak_issuer``) is this same validator, its override
looked up per request from the client's configuration.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from oauthlib.oauth2.rfc6749 import errors

from flowlab.labs.catalogue import Lab
from flowlab.labs.client import credentials
from flowlab.sandbox.public import IssuerProfile
from flowlab.sandbox.public import RequestValidator
from flowlab.sandbox.public import Sandbox

HEADERS = {"X-Flowlab-Lab": "vulnerable issuer"}


class LabValidator(RequestValidator):
    """The sandbox's validator with one lab's override, for that lab's clients only."""

    overrides: Mapping = {}
    clients: frozenset[str] = frozenset()

    def _only_lab_clients(self, client_id, request, error=errors.InvalidClientError):
        if client_id not in self.clients:
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
        RFC 9700 §4.1.1 describes); else the sandbox's exact rule."""
        pattern = self.overrides.get("redirect_pattern")
        if pattern and fnmatch.fnmatchcase(redirect_uri or "", pattern):
            return True
        return super().validate_redirect_uri(client_id, redirect_uri, request)

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
            "overrides": lab_variants[0].server,
            "clients": frozenset(credentials(config, lab.id, v.name)[0]
                                 for v in lab_variants)})
        profile = IssuerProfile(id=f"lab-{lab.id}", path=f"/sandbox/lab-{lab.id}",
                                name=f"Lab issuer: {lab.title}",
                                label="lab only, vulnerable")
        paged = any("redirect_pattern" in v.server for v in lab.variants.values())
        sandbox.add_issuer(profile, validator, pages=paged, headers=HEADERS)
