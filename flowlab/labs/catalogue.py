"""Labs as data: ``content/labs/<id>.toml`` read once at start-up (see README there)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path

from flowlab.core import tomlcache
from flowlab.core.content import render_markdown

VARIANTS = ("vulnerable", "defended")
# How much a lab asks of the learner, easiest first (the labs page filters on it).
LEVELS = ("apprentice", "practitioner", "expert")
# The verdict's three states: what the wire shows (succeeded, failed) or not yet.
OUTCOMES = ("succeeded", "failed", "undecided")


@dataclass(frozen=True)
class Variant:
    """One configuration a lab runs under: the client's, and maybe a lab issuer's."""

    name: str
    label: str
    check_state: bool = True
    pkce: bool = False
    check_iss: bool = False  # the callback's iss must be the server it started at
    response_type: str = "code"  # "token": the client uses the implicit grant
    # a sign-in client's server asks the server whose token its page posted
    # (false: it trusts the user data posted with it, RFC 9700 §4.6)
    check_token: bool = True
    # the client's pages post messages to any origin (targetOrigin "*"), not only
    # to their own (RFC 9700 §4.17)
    post_to_any_origin: bool = False
    # "sandbox"; a sandbox profile's id ("best-practice"); "lab": this lab's own
    # issuer path, /sandbox/lab-<id>; or "weak": the learner's weak server
    issuer: str = "sandbox"
    server: dict = field(default_factory=dict)  # the lab issuer's settings override
    # "issuer": the API is the issuer's own; "lab": the lab's own weak API at
    # /labs/<id>/<variant>/api/v1 (``flowlab.labs.resource``), with ``server``'s
    # switches ``audience_check`` and ``dpop_replay_check``
    api: str = "issuer"
    # What the client checks of an id_token (OIDC Core §3.1.3.7): "signature" (by
    # the issuer's published key, under the algs its metadata pins; without it the
    # token's own alg decides, "none" included), "iss", "aud", "exp", "nonce"
    id_token_checks: tuple[str, ...] = ("signature", "iss", "aud", "exp", "nonce")
    issuer_path: str = ""  # a profile issuer's path, set at start-up
    annotations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Lab:
    """A guided attack, run once per variant (RFC 9700 §4 names most of them)."""

    id: str
    title: str
    summary: str
    rfc: tuple[str, ...]
    order: int
    client_name: str
    story: str  # Markdown, rendered when the lab's page is first shown
    steps: tuple[dict, ...]
    variants: dict[str, Variant]
    outcome: dict[str, str]
    annotations: dict[str, str]
    level: str = "apprentice"  # one of LEVELS
    redirect_to: str = "client"  # "attacker": the redirect URI is the attacker's
    public: bool = False  # a public client: no secret, PKCE (RFC 6749 §2.1)
    grants: tuple[str, ...] = ()  # the lab client's grants beyond the code's
    # A sentence a verdict adds, by outcome and by the key the lab's ``detail``
    # gives (which check was missing, say): ``[details.succeeded]`` in the TOML
    details: dict = field(default_factory=dict)

    @property
    def story_html(self) -> str:
        return render_markdown(self.story)

    def note(self, variant: str, key: str) -> str:
        """The annotation of a message ``key``, the variant's own first."""
        own = self.variants[variant].annotations
        return own.get(key) or self.annotations.get(key, "")

    def sections(self) -> tuple[str, ...]:
        """The RFC 9700 sections the lab cites ("4.1", "2.1.1"), for the filter."""
        prefix = "RFC 9700 §"
        return tuple(r.removeprefix(prefix) for r in self.rfc if r.startswith(prefix))

    def uses_lab_issuer(self) -> bool:
        return any(v.issuer == "lab" for v in self.variants.values())


def with_yours(lab: Lab, label: str, api_label: str) -> Lab:
    """``lab`` with a third variant, "yours": the defended client against the weak
    server the learner built (``flowlab.labs.weak``); the server decides. A lab
    whose weakness is its own API's (the vulnerable variant's ``api = "lab"``)
    keeps the defended variant's careful issuer, whose JWT access tokens and DPoP
    it needs (RFC 9068, RFC 9449), and runs against the lab's API, weakened by the
    learner's switches (``flowlab.labs.resource``)."""
    defended = lab.variants["defended"]
    if lab.variants["vulnerable"].api == "lab":
        yours = replace(defended, name="yours", label=api_label, api="lab",
                        server={}, annotations={})
    else:
        yours = replace(defended, name="yours", label=label, issuer="weak",
                        server={}, issuer_path="", annotations={})
    return replace(lab, variants={**lab.variants, "yours": yours})


def _variant(name: str, data: dict) -> Variant:
    known = {k: data[k] for k in ("label", "check_state", "pkce", "check_iss",
                                  "response_type", "check_token", "post_to_any_origin",
                                  "issuer", "server", "api", "annotations")
             if k in data}
    if "id_token_checks" in data:
        known["id_token_checks"] = tuple(data["id_token_checks"])
    return Variant(name=name, **known)


def load_lab(path: Path) -> Lab:
    """Read one lab; a missing variant or field fails at start-up, not mid-run."""
    data = tomlcache.read(path)
    outcome = {name: data["outcome"][name] for name in OUTCOMES}
    if data["level"] not in LEVELS:
        raise ValueError(f"{path.name}: level must be one of {', '.join(LEVELS)}")
    variants = {name: _variant(name, data["variants"][name]) for name in VARIANTS}
    return Lab(
        id=path.stem, title=data["title"], summary=data["summary"],
        rfc=tuple(data["rfc"]), order=int(data.get("order", 99)),
        client_name=data["client_name"], story=data["story"],
        steps=tuple(data.get("steps", ())), variants=variants,
        outcome=outcome, annotations=dict(data.get("annotations", {})),
        level=data["level"], redirect_to=data.get("redirect_to", "client"),
        public=bool(data.get("public", False)), grants=tuple(data.get("grants", ())),
        details={name: dict(texts) for name, texts in data.get("details", {}).items()},
    )


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(n) for n in section.split(".") if n.isdigit())


def sections_of(labs: list[Lab]) -> list[str]:
    """Every RFC 9700 section the labs cite, in the RFC's order."""
    return sorted({s for lab in labs for s in lab.sections()}, key=_section_key)


def matching(labs: list[Lab], level: str = "", section: str = "") -> list[Lab]:
    """The labs of ``level`` citing RFC 9700 ``section`` or one of its subsections
    ("4.1" matches §4.1 and §4.1.1); an empty filter matches every lab."""
    return [lab for lab in labs
            if (not level or lab.level == level)
            and (not section or any(s == section or s.startswith(section + ".")
                                    for s in lab.sections()))]


def load(folder: Path) -> dict[str, Lab]:
    """Every lab in ``folder``, in their order; files starting with ``_`` skipped."""
    labs = [load_lab(p) for p in sorted(folder.glob("*.toml"))
            if not p.name.startswith("_")]
    return {lab.id: lab for lab in sorted(labs, key=lambda lab: lab.order)}
