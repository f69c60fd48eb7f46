"""Flows as data: ``content/flows/<flow-id>.toml``, one per decision-table flow."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path

from flowlab.core.provider import Provider
from flowlab.core.runner import registry
from flowlab.core.runner.oidc import Notes
from flowlab.core.runner.oidc import userinfo_serves
from flowlab.core.runner.records import StepRecord


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    client: str
    summary: str
    steps: tuple[dict, ...]
    scope: str | None = None
    pkce: bool = False
    # The start page offers to run without PKCE (RFC 9700 §2.1.1 asks for it).
    pkce_optional: bool = False
    # The start page offers to run it as a single-page app: these steps change.
    browser: dict = field(default_factory=dict, compare=False)
    # What the authorization request asks for: "code" (RFC 6749 §4.1.1) or
    # "token", the implicit grant (§4.2.1), whose answer comes in the fragment.
    response_type: str = "code"
    # What its steps may tell of a real-world provider (content/interop.toml).
    notes: Notes = field(default_factory=Notes, compare=False, repr=False)
    # Steps offered once the run holds a token (content/token-wrap-up.toml):
    # introspect, revoke, then the flow's own API call again (``wrap_up_steps``).
    wrap_up: dict = field(default_factory=dict, compare=False, repr=False)
    # Other ways to run it, picked on the start page: ``[variants]`` has the
    # ``legend``, ``help`` and ``default`` label, and ``[variants.way.<id>]`` a
    # ``label`` and whole steps (``[variants.way.<id>.step.<step-id>]``) that take
    # the place of the flow's steps of that id.
    variants: dict = field(default_factory=dict, compare=False, repr=False)

    def step(self, index: int) -> dict | None:
        return self.steps[index] if 0 <= index < len(self.steps) else None

    def requirements(self) -> tuple[registry.Requirement, ...]:
        """What a provider must support to run this flow (``providers.offered``)."""
        return registry.requirements(self)

    def for_provider(self, provider: Provider) -> Flow:
        """This flow without the steps the provider cannot do (no API, no expiry)."""
        def possible(step: dict) -> bool:
            action = registry.action(step["action"]).profile
            return all(provider.has(need) for need in step.get("needs", ())) and (
                all(provider.has(need) for need in action)
                or userinfo_serves(provider, step, self.notes))

        return replace(self, steps=tuple(s for s in self.steps if possible(s)))

    def with_options(self, options: dict) -> Flow:
        """This flow as the learner chose to run it on the start page, and with the
        wrap-up steps once the learner asked for them at its end."""
        flow = self
        if self.pkce_optional and options.get("pkce") is False:
            flow = replace(self, pkce=False)
        elif self.browser and options.get("spa"):
            steps = tuple({**s, **self.browser.get(s["id"], {})} for s in self.steps)
            flow = replace(self, steps=steps)
        way = self.variants.get("way", {}).get(options.get("variant"))
        if way:
            steps = way.get("step", {})
            flow = replace(flow, steps=tuple(
                {"id": s["id"], **steps[s["id"]]} if s["id"] in steps else s
                for s in flow.steps))
        if options.get("wrap_up"):
            flow = replace(flow, steps=flow.steps + flow.wrap_up_steps())
        return flow

    def wrap_up_steps(self) -> tuple[dict, ...]:
        """Introspect and revoke the access token (RFC 7662, RFC 7009), then this
        flow's last API call that worked, again, now refused (RFC 6750 §3.1); none
        without such a call to repeat."""
        calls = [s for s in self.steps
                 if s["action"] == "api" and s.get("expect", 200) < 400]
        if not self.wrap_up or not calls:
            return ()
        again = {k: v for k, v in calls[-1].items()
                 if k in ("action", "path", "endpoint")} | self.wrap_up["api"]
        return (*self.wrap_up["step"], again)

    def explained(self, records: list[StepRecord]) -> Flow:
        """Each finished step told as it went: a step's ``explain_when`` holds the
        text for an outcome the engine recorded (``iss`` checked or absent, ...),
        and ``arrows_when`` the arrows, where they differ too."""
        def told(step: dict, record: StepRecord | None) -> dict:
            outcome = record.outcome if record else None
            return {**step, **{key: step[f"{key}_when"][outcome]
                               for key in ("explain", "arrows")
                               if outcome in step.get(f"{key}_when", {})}}

        steps = [told(step, records[i] if i < len(records) else None)
                 for i, step in enumerate(self.steps)]
        return replace(self, steps=tuple(steps))


def pkce_offered(provider: Provider) -> bool:
    """Whether a provider takes S256: its metadata lists it, or says nothing."""
    methods = provider.pkce_methods
    return methods is None or "S256" in methods


def options_from(flow: Flow, form, provider: Provider) -> dict:
    """The run options a start form chose; only what this flow and provider offer."""
    if form.get("variant") in flow.variants.get("way", {}):
        return {"variant": form["variant"]}
    # Only the sandbox records what a page sends it.
    if flow.browser and provider.is_sandbox and form.get("run_as") == "spa":
        return {"spa": True}
    if flow.pkce_optional and (form.get("pkce") == "off"
                               or not pkce_offered(provider)):
        return {"pkce": False}
    return {}


def load_flows(content) -> dict[str, Flow]:
    """Each flow of the decision table with its steps, by flow id, then any other
    ``content/flows/<id>.toml`` that names itself (``name = "..."``): a new flow or
    lab is a data file."""
    flows, notes = {}, Notes.from_content(content)
    for row in content.data("decision-table")["flows"]:
        flows[row["id"]] = flow_from(row, content.data(f"flows/{row['id']}"), notes)
    for path in sorted((Path(content.root) / "flows").glob("[!_]*.toml")):
        data = content.data(f"flows/{path.stem}")
        if path.stem not in flows and "name" in data:
            flows[path.stem] = flow_from({"id": path.stem, "name": data["name"]}, data,
                                         notes)
    if not (Path(content.root) / "token-wrap-up.toml").is_file():
        return flows
    wrap_up = content.data("token-wrap-up")
    for step in wrap_up["step"]:  # as flow_from checks: at start-up, not mid-run
        registry.action(step["action"])
    return {key: replace(flow, wrap_up=wrap_up) for key, flow in flows.items()}


def flow_from(row: dict, data: dict, notes: Notes | None = None) -> Flow:
    """A flow from its decision-table row and its TOML; an unknown action is an
    error here, at start-up, never in the middle of a run."""
    ways = data.get("variants", {}).get("way", {}).values()
    for step in [*data["step"], *data.get("browser", {}).values(),
                 *[step for way in ways for step in way.get("step", {}).values()]]:
        if "action" in step and step["action"] not in registry.ACTIONS:
            raise ValueError(f"flow {row['id']!r}, step {step.get('id')!r}: no "
                             f"action called {step['action']!r}")
    return Flow(
        id=row["id"],
        name=row["name"],
        client=data["client"],
        summary=data["summary"].strip(),
        steps=tuple(data["step"]),
        scope=data.get("scope"),
        pkce=data.get("pkce", False),
        pkce_optional=data.get("pkce_optional", False),
        browser=data.get("browser", {}),
        response_type=data.get("response_type", "code"),
        variants=data.get("variants", {}),
        notes=notes or Notes(),
    )
