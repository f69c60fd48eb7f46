"""Flows as data: ``content/flows/<flow-id>.toml``, one per decision-table flow."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    client: str
    summary: str
    steps: tuple[dict, ...]
    scope: str | None = None
    pkce: bool = False

    def step(self, index: int) -> dict | None:
        return self.steps[index] if 0 <= index < len(self.steps) else None

    def for_provider(self, provider: dict, action_needs: dict) -> Flow:
        """This flow without the steps the provider cannot do (no API, no expiry)."""
        def possible(step: dict) -> bool:
            needs = [*action_needs.get(step["action"], ()), *step.get("needs", ())]
            return all(provider.get(need) for need in needs)

        return replace(self, steps=tuple(s for s in self.steps if possible(s)))


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
        )
    return flows
