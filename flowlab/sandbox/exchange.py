"""Token exchange (RFC 8693) at the best-practice issuer: an access token of this
issuer for a narrower one, for the same subject, with an ``act`` claim naming the
client that exchanged it (§4.1).

The client authenticates (§2.1); ``subject_token`` is a live access token of this
issuer of type ``…:access_token``; ``resource`` and ``audience`` may only narrow
the subject token's ``aud``, and ``scope`` its scope. The new token belongs to a
grant of its own, for the exchanging client, and has no refresh token (§2.2.1).
"""

from __future__ import annotations

import json
import time

import jwt
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.base import GrantTypeBase
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from flowlab.sandbox import dpopclients
from flowlab.sandbox import grants
from flowlab.sandbox import resources
from flowlab.sandbox.issuers import issued_here

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
SINGLE = ("subject_token", "subject_token_type", "scope", "actor_token",
          "actor_token_type", "requested_token_type")


def _param(request, name: str) -> str | None:
    """A form parameter oauthlib's request has no attribute for."""
    return dict(request.decoded_body or []).get(name)


def _refuse(request, text: str) -> errors.InvalidRequestError:
    return errors.InvalidRequestError(description=text, request=request)


class TokenExchangeGrant(GrantTypeBase):
    """The token exchange grant (RFC 8693 §2), an oauthlib grant type."""

    def create_token_response(self, request, token_handler):
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as exc:
            headers.update(exc.headers)
            return headers, exc.json, exc.status_code
        token = token_handler.create_token(request, refresh_token=False)
        token["issued_token_type"] = ACCESS_TOKEN  # §2.2.1
        self.request_validator.save_token(token, request)
        return headers, json.dumps(token), 200

    def validate_token_request(self, request) -> None:
        """§2.1: client authentication, then the subject token and narrowing."""
        twice = [name for name in SINGLE if name in request.duplicate_params]
        if twice:
            raise _refuse(request, f"Duplicate {twice[0]} parameter.")
        self.request_validator.authenticate_client(request)
        dpopclients.require_proof(request.client, request)  # RFC 9449 §5.2
        kind = _param(request, "subject_token_type")
        if not _param(request, "subject_token") or not kind:
            raise _refuse(request, "subject_token and subject_token_type required")
        if kind != ACCESS_TOKEN:
            raise _refuse(request, "subject_token_type must be " + ACCESS_TOKEN)
        if _param(request, "actor_token") or _param(
                request, "requested_token_type") not in (None, ACCESS_TOKEN):
            raise _refuse(request, "only an access token, with no actor_token")
        asked = (resources.asked_at_token(request, "audience")
                 + resources.asked_at_token(request, "resource"))
        subject = self._subject(request)
        wanted = scope_to_list(request.scope) or subject["record"].scopes
        if not set(wanted) <= set(subject["record"].scopes):
            raise errors.InvalidScopeError(description="Illegal scope", request=request)
        aud = subject["aud"] if isinstance(subject["aud"], list) else [subject["aud"]]
        request.resources = asked
        request.audience = resources.audience(request, "", aud)
        request.scopes, request.user = wanted, subject["record"].user_id
        request.grant_id = None  # a grant of the exchanging client's own
        act = {"sub": request.client_id}
        if "act" in subject:  # a chain of delegation (§4.1)
            act["act"] = subject["act"]
        request.access_token_claims = {"sub": subject["sub"], "act": act}

    def _subject(self, request) -> dict:
        """The subject token's claims and record: a live access token that is a
        JWT of this issuer, else invalid_grant."""
        validator = self.request_validator
        token = _param(request, "subject_token")
        record = grants.find_token(validator.conn, token)
        if (record is None or record.kind != "access" or record.revoked
                or record.expires_at <= time.time()
                or token.count(".") != 2 or not issued_here(validator.settings, token)):
            raise errors.InvalidGrantError(description="Invalid subject_token",
                                           request=request)
        claims = jwt.decode(token, options={"verify_signature": False})
        return {**claims, "record": record}
