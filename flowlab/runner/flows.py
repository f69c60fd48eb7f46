"""Flows as data: ``content/flows/<flow-id>.toml``, one per decision-table flow."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace

from .oidc import userinfo_serves


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

    def step(self, index: int) -> dict | None:
        return self.steps[index] if 0 <= index < len(self.steps) else None

    def for_provider(self, provider: dict, action_needs: dict) -> Flow:
        """This flow without the steps the provider cannot do (no API, no expiry)."""
        def possible(step: dict) -> bool:
            action = action_needs.get(step["action"], ())
            return all(provider.get(need) for need in step.get("needs", ())) and (
                all(provider.get(need) for need in action)
                or userinfo_serves(provider, step))

        return replace(self, steps=tuple(s for s in self.steps if possible(s)))

    def with_options(self, options: dict) -> Flow:
        """This flow as the learner chose to run it on the start page."""
        if self.pkce_optional and options.get("pkce") is False:
            return replace(self, pkce=False)
        if self.browser and options.get("spa"):
            steps = tuple({**s, **self.browser.get(s["id"], {})} for s in self.steps)
            return replace(self, steps=steps)
        return self

    def explained(self, records: list[dict]) -> Flow:
        """Each finished step told as it went: a step's ``explain_when`` holds the
        text for an outcome the engine recorded (``iss`` checked or absent, ...)."""
        def told(step: dict, record: dict | None) -> dict:
            texts = step.get("explain_when", {})
            outcome = (record or {}).get("outcome")
            return {**step, "explain": texts[outcome]} if outcome in texts else step

        steps = [told(step, records[i] if i < len(records) else None)
                 for i, step in enumerate(self.steps)]
        return replace(self, steps=tuple(steps))


def pkce_offered(provider: dict) -> bool:
    """Whether a provider takes S256: its metadata lists it, or says nothing."""
    methods = provider.get("pkce_methods")
    return methods is None or "S256" in methods


def options_from(flow: Flow, form, provider: dict) -> dict:
    """The run options a start form chose; only what this flow and provider offer."""
    sandbox = provider.get("kind") == "sandbox"  # it records what a page sends it
    if flow.browser and sandbox and form.get("run_as") == "spa":
        return {"spa": True}
    if flow.pkce_optional and (form.get("pkce") == "off"
                               or not pkce_offered(provider)):
        return {"pkce": False}
    return {}


def load_flows(content) -> dict[str, Flow]:
    """Each flow of the decision table with its steps, by flow id."""
    flows = {}
    for row in content.data("decision-table")["flows"]:
        data = content.data(f"flows/{row['id']}")
        flows[row["id"]] = Flow(
            id=row["id"],
            name=row["name"],
            client=data["client"],
            summary=data["summary"].strip(),
            steps=tuple(data["step"]),
            scope=data.get("scope"),
            pkce=data.get("pkce", False),
            pkce_optional=data.get("pkce_optional", False),
            browser=data.get("browser", {}),
        )
    return flows
