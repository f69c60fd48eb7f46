"""The advisor's question beyond Spotify's table: what else the app must do. Signing
the user in leads to OpenID Connect, a high-security or financial API to FAPI 2.0,
an agent calling APIs for a user to the MCP authorization profile. A flow the runner
has gets "Run it live"; one it has not yet gets its lesson and no broken link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowlab.core.advisor import goal
from flowlab.core.content import Content

ROOT = Path(__file__).resolve().parent.parent
TABLE = Content(ROOT / "content").data("decision-table")
BASE = "/advisor?acts_for_user=yes&runs_on=server&needs_refresh=no"


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_goal_is_data_and_runs_only_what_the_runner_has():
    chosen = goal({"goal": "sign-in"}, TABLE, {"sign-in-oidc"})
    assert chosen["lesson"] == "openid-connect" and chosen["run"] == "/run/sign-in-oidc"
    assert goal({"goal": "sign-in"}, TABLE, set())["run"] is None
    assert goal({"goal": "api"}, TABLE, {"sign-in-oidc"}) is None  # the table decides
    assert goal({"goal": "nonsense"}, TABLE, set()) is None
    assert goal({}, TABLE, set()) is None


def test_the_form_asks_it_without_requiring_it(client):
    html = client.get("/advisor").get_data(as_text=True)
    fieldset = html[html.index('id="q-goal"'):]
    fieldset = fieldset[:fieldset.index("</fieldset>")]
    for value in ("api", "sign-in", "high-security", "agent"):
        assert f'value="{value}"' in fieldset
    assert "required" not in fieldset
    # The three questions of the table still decide alone: no goal, no change.
    plain = client.get(BASE)
    assert plain.status_code == 200 and 'id="goal-title"' not in plain.get_data(
        as_text=True)


def test_sign_in_leads_to_openid_connect_with_a_run(client):
    html = client.get(BASE + "&goal=sign-in").get_data(as_text=True)
    assert "OpenID Connect" in text(html)
    section = html[html.index('id="goal-title"'):]
    assert 'href="/run/sign-in-oidc"' in section
    assert 'href="/lessons/openid-connect"' in section


@pytest.mark.parametrize(("answer", "name", "lesson", "run"), [
    ("high-security", "FAPI 2.0", "fapi-2", "/run/fapi2"),
    ("agent", "MCP", "mcp-authorization", "/run/mcp"),
])
def test_fapi_and_mcp_lead_to_their_lesson_and_their_run(
        client, answer, name, lesson, run):
    """Both flows are in the runner: the goal links to them ("Run it live"); a
    goal whose flow the runner lacks gets none (the unit test above)."""
    html = client.get(BASE + f"&goal={answer}").get_data(as_text=True)
    section = html[html.index('id="goal-title"'):]
    section = section[:section.index("</section>")]
    assert name in text(section)
    assert f'href="/lessons/{lesson}"' in section
    assert f'href="{run}"' in section and "Run it live" in section
    assert client.get(f"/lessons/{lesson}").status_code == 200


def test_the_json_api_carries_the_goal(client):
    data = client.get("/api/advice?acts_for_user=yes&runs_on=server&needs_refresh=no"
                      "&goal=agent").get_json()
    assert data["goal"]["lesson"] == "mcp-authorization"
    assert data["goal"]["run"] == "/run/mcp"
    plain = client.get("/api/advice?acts_for_user=yes&runs_on=server"
                       "&needs_refresh=no").get_json()
    assert "goal" not in plain  # the answer's shape is unchanged without one
