"""Step actions and what each declares, so a flow is data plus at most one action.

An action says on which channel it happens (RFC 6749 §1.2: the browser's front
channel, a direct back-channel call, or a back-channel call repeated while the
provider answers "pending", as device polling does, RFC 8628 §3.4), what it reads
from the run, where a redirect's answer arrives, and what a provider must support
for it. The engine, the callback, the step page, the exports and ``providers.offered``
read these declarations; none of them names a flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CHANNELS = ("front", "back", "poll")


@dataclass(frozen=True)
class Requirement:
    """What a provider must offer: a value in one of its metadata lists (RFC 8414
    §2: ``grant_types_supported``...), or a client secret; ``reason`` names the
    sentence in ``content/providers.toml`` that says why a flow is not offered."""

    field: str  # "grant_types", "response_types", "pkce_methods", "secret", or
    # "profile": the provider profile names ``value`` (``Provider.has``)
    value: str
    reason: str


@dataclass(frozen=True)
class Action:
    """A step action and what it declares."""

    name: str
    channel: str  # "front": the browser does it; "back"/"poll": Next runs ``run``
    run: Callable | None = None  # ``(run, flow, step, ctx) -> record``
    reads: tuple[str, ...] = ()  # run secrets it needs: "code", "verifier", ...
    profile: tuple[str, ...] = ()  # provider profile fields it needs (api_base...)
    receives: str | None = None  # where a redirect's answer is: "query"/"fragment"
    issues_token: bool = False  # its answer is a token response (RFC 6749 §5.1)
    # What it uses up: a code works once (RFC 6749 §4.1.2), a rotated refresh token
    # is spent (RFC 9700 §4.14.2). A try cut off may have spent it already.
    spends: tuple[str, ...] = ()
    requires: Callable[..., tuple[Requirement, ...]] = lambda flow: ()
    # ``(run) -> time`` before which the action must not run again (RFC 8628 §3.5)
    ready_at: Callable | None = None

    @property
    def front(self) -> bool:
        return self.channel == "front"


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    """Add an action to the registry (a second one of the same name replaces it)."""
    if action.channel not in CHANNELS:
        raise ValueError(f"unknown channel {action.channel!r} for {action.name}")
    ACTIONS[action.name] = action
    return action


def action(name: str) -> Action:
    """The registered action called ``name``; a flow naming another one is refused
    when the flows are loaded, so this is a lookup, not a guess."""
    return ACTIONS[name]


def front_channel() -> frozenset[str]:
    """The names of the actions the browser performs (Next cannot run them)."""
    return frozenset(name for name, a in ACTIONS.items() if a.front)


def received_in(flow) -> str:
    """Where this flow's authorization response arrives: the query of the redirect
    (RFC 6749 §4.1.2) or its fragment (§4.2.2)."""
    for step in flow.steps:
        where = ACTIONS[step["action"]].receives
        if where:
            return where
    return "query"


def requirements(flow) -> tuple[Requirement, ...]:
    """What a provider must support to run ``flow``: its client's secret and each
    step action's declared needs, without repeats, in step order."""
    found: list[Requirement] = []
    if flow.client == "confidential":
        found.append(Requirement("secret", "client_secret", "no_secret"))
    for step in flow.steps:
        for need in ACTIONS[step["action"]].requires(flow):
            if need not in found:
                found.append(need)
    return tuple(found)
