"""A provider profile as a value: where a flow's requests go, and as which client.

``Provider`` is what a run and a browser's choice keep (the ``runs`` and ``choices``
tables, as JSON). ``to_json`` and ``from_json`` are its one serialization path; a
profile stored by an older version still loads: missing keys take their defaults,
keys this version does not know are kept in ``extra`` and written back unchanged.
Which lists a provider names follow its metadata (RFC 8414 §2): None means the
list is absent, an empty tuple that it lists nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields

LISTS = ("grant_types", "response_types", "pkce_methods", "extensions")


@dataclass(frozen=True)
class Provider:
    """One authorization server and this lab's clients there; never a secret."""

    kind: str = "discovered"  # "sandbox", "spotify" or "discovered"
    name: str = ""
    issuer: str | None = None
    iss_supported: bool = False  # RFC 9207 §3: it sends ``iss`` in responses
    authorize_url: str = ""
    token_url: str = ""
    api_base: str | None = None
    clients: dict[str, str] = field(default_factory=dict)  # confidential, public
    sandbox_path: str | None = None  # which of the sandbox's issuers
    expire_url: str | None = None  # the sandbox's "expire this token" endpoint
    device_authorization_url: str | None = None  # RFC 8628 §3.1
    grant_revocation: bool = False
    introspection_url: str | None = None  # RFC 7662 §2, from its metadata
    revocation_url: str | None = None  # RFC 7009 §2, from its metadata
    grant_types: tuple[str, ...] | None = None
    response_types: tuple[str, ...] | None = None
    pkce_methods: tuple[str, ...] | None = None
    # What it offers beyond RFC 6749 that a flow may need: "registration" (RFC 7591),
    # "par" (RFC 9126), "dpop" (RFC 9449); None: not known before a run reads its
    # metadata.
    extensions: tuple[str, ...] | None = None
    scope: str | None = None  # None: each flow's own scope
    refused: dict[str, str] = field(default_factory=dict)  # flow id: why not
    jwks_uri: str | None = None
    # An OpenID provider: its configuration at {issuer}/.well-known/openid-
    # configuration (OpenID Connect Discovery §4), read by a flow's discover step.
    openid: bool = False
    userinfo_url: str | None = None
    callback_path: str | None = None  # runner.callbacks: its own redirect path
    extra: dict = field(default_factory=dict)  # stored keys this version ignores

    @property
    def is_sandbox(self) -> bool:
        """Whether this is the embedded sandbox, whose secrets are demo values."""
        return self.kind == "sandbox"

    def has(self, name: str) -> bool:
        """Whether the profile names a ``name`` (an endpoint a step needs...)."""
        return bool(getattr(self, name, None) or self.extra.get(name))

    def to_json(self) -> dict:
        """The stored form: a JSON object of the fields, plus ``extra``'s keys."""
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "extra"}
        for name in LISTS:
            if data[name] is not None:
                data[name] = list(data[name])
        data["clients"], data["refused"] = dict(self.clients), dict(self.refused)
        return {**self.extra, **data}

    @classmethod
    def from_json(cls, data: dict) -> Provider:
        """A profile from ``to_json``'s form or an older one's (see the module)."""
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        for name in LISTS:
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        values["clients"] = dict(values.get("clients") or {})
        values["refused"] = dict(values.get("refused") or {})
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra)
