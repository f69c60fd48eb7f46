"""Flows as data: ``content/flows/<flow-id>.toml``, one per decision-table flow."""

from __future__ import annotations

from dataclasses import dataclass


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
