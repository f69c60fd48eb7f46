"""The advisor's rules, as plain functions, and its two views (HTML and JSON)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flowlab.advisor import InvalidAnswer
from flowlab.advisor import check_answers
from flowlab.advisor import recommend

TABLE_FILE = Path(__file__).resolve().parent.parent / "content" / "decision-table.toml"
AC = "authorization-code"
PKCE = "authorization-code-pkce"
CC = "client-credentials"
IMPLICIT = "implicit"

# Every combination of answers and the flow it must get, with the honest edge cases:
# a CLI acting for a user is a public client (PKCE, loopback redirect); an app with no
# user but no place for a secret gets client credentials on a small backend.
EXPECTED = [
    # acts_for_user, runs_on, needs_refresh, recommended
    ("yes", "server", "yes", AC),
    ("yes", "server", "no", AC),
    ("yes", "spa", "yes", PKCE),
    ("yes", "spa", "no", PKCE),
    ("yes", "native", "yes", PKCE),
    ("yes", "native", "no", PKCE),
    ("yes", "machine", "yes", PKCE),
    ("yes", "machine", "no", PKCE),
    ("no", "server", "yes", CC),
    ("no", "server", "no", CC),
    ("no", "spa", "yes", CC),
    ("no", "spa", "no", CC),
    ("no", "native", "yes", CC),
    ("no", "native", "no", CC),
    ("no", "machine", "yes", CC),
    ("no", "machine", "no", CC),
]


@pytest.fixture(scope="module")
def table() -> dict:
    return tomllib.loads(TABLE_FILE.read_text(encoding="utf-8"))


def answers(user: str, runs_on: str, refresh: str) -> dict:
    return {"acts_for_user": user, "runs_on": runs_on, "needs_refresh": refresh}


def query(user: str, runs_on: str, refresh: str) -> str:
    return f"acts_for_user={user}&runs_on={runs_on}&needs_refresh={refresh}"


def test_the_expectations_cover_every_combination(table):
    sizes = [len(q["options"]) for q in table["questions"]]
    assert len({row[:3] for row in EXPECTED}) == sizes[0] * sizes[1] * sizes[2] == 16


@pytest.mark.parametrize(("user", "runs_on", "refresh", "expected"), EXPECTED)
def test_each_combination_gets_its_flow(table, user, runs_on, refresh, expected):
    result = recommend(answers(user, runs_on, refresh), table)
    assert result.recommended == expected
    assert result.verdicts[expected].verdict == "recommended"
    # Exactly one recommendation, and every flow has a verdict with a reason.
    verdicts = [v.verdict for v in result.verdicts.values()]
    assert verdicts.count("recommended") == 1
    assert set(verdicts) <= {"recommended", "possible", "not-suitable"}
    assert set(result.verdicts) == {AC, PKCE, CC, IMPLICIT}
    assert all(v.reason.strip() for v in result.verdicts.values())


@pytest.mark.parametrize(("user", "runs_on", "refresh", "expected"), EXPECTED)
def test_implicit_is_never_recommended(table, user, runs_on, refresh, expected):
    result = recommend(answers(user, runs_on, refresh), table)
    assert result.verdicts[IMPLICIT].verdict == "not-suitable"
    assert "2025-11-27" in result.verdicts[IMPLICIT].reason
    assert any(IMPLICIT in step.ruled_out for step in result.path)


@pytest.mark.parametrize(("user", "runs_on", "refresh", "expected"), EXPECTED)
def test_path_has_a_step_per_answer_and_never_rules_out_the_winner(
    table, user, runs_on, refresh, expected
):
    result = recommend(answers(user, runs_on, refresh), table)
    asked = [(step.question, step.answer) for step in result.path if step.question]
    assert asked == [
        ("acts_for_user", user), ("runs_on", runs_on), ("needs_refresh", refresh)
    ]
    assert all(expected not in step.ruled_out for step in result.path)
    assert all(step.reason for step in result.path)


def test_a_user_rules_out_client_credentials(table):
    result = recommend(answers("yes", "server", "yes"), table)
    assert CC in result.path[0].ruled_out
    assert "/v1/me" in result.verdicts[CC].reason


def test_cli_acting_for_a_user_is_a_public_client(table):
    result = recommend(answers("yes", "machine", "yes"), table)
    assert result.verdicts[AC].verdict == "possible"
    assert any("loopback" in c and "127.0.0.1" in c for c in result.caveats)


@pytest.mark.parametrize("runs_on", ["spa", "native"])
def test_no_secret_in_a_public_app_that_needs_no_user(table, runs_on):
    result = recommend(answers("no", runs_on, "no"), table)
    assert result.recommended == CC
    assert "backend" in result.verdicts[CC].reason
    assert any("secret" in c and "backend" in c for c in result.caveats)
    assert result.verdicts[PKCE].verdict == "possible"


def test_client_credentials_asks_again_instead_of_refreshing(table):
    result = recommend(answers("no", "server", "yes"), table)
    assert result.recommended == CC
    assert "needs none" in result.verdicts[CC].reason
    assert any("no refresh token" in caveat for caveat in result.caveats)


def test_refresh_caveat_names_six_month_expiry(table):
    result = recommend(answers("yes", "spa", "yes"), table)
    assert any("six months" in caveat for caveat in result.caveats)


@pytest.mark.parametrize(
    ("given", "parameter"),
    [
        ({"runs_on": "spa", "needs_refresh": "no"}, "acts_for_user"),
        ({"acts_for_user": "maybe", "runs_on": "spa", "needs_refresh": "no"},
         "acts_for_user"),
        ({"acts_for_user": "yes", "runs_on": "cloud", "needs_refresh": "no"},
         "runs_on"),
        ({"acts_for_user": "yes", "runs_on": "spa", "needs_refresh": ""},
         "needs_refresh"),
    ],
)
def test_bad_answers_name_the_question(table, given, parameter):
    _, problems = check_answers(given, table)
    assert [p.parameter for p in problems] == [parameter]
    with pytest.raises(InvalidAnswer) as caught:
        recommend(given, table)
    assert caught.value.parameter == parameter


# --- The views ------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "runs_on", "refresh", "expected"), EXPECTED)
def test_json_and_html_agree(client, user, runs_on, refresh, expected):
    data = client.get(f"/api/advice?{query(user, runs_on, refresh)}").get_json()
    assert data["recommended"] == expected
    assert set(data) == {"recommended", "verdicts", "path", "caveats"}
    assert set(data["verdicts"][AC]) == {"verdict", "reason"}
    page = client.get(f"/advisor?{query(user, runs_on, refresh)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/run/{expected}"' in html
    assert f'href="/lessons/{expected}"' in html
    for flow, verdict in data["verdicts"].items():
        assert f'verdict verdict-{verdict["verdict"]}' in html, flow


def test_form_without_answers_is_a_plain_get_form(client):
    response = client.get("/advisor")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'method="get"' in html and 'action="/advisor"' in html
    for name in ("acts_for_user", "runs_on", "needs_refresh"):
        assert f'name="{name}"' in html
    assert "field-error" not in html


def test_form_with_a_bad_answer_is_a_400_with_the_message_beside_it(client):
    response = client.get("/advisor?acts_for_user=yes&runs_on=cloud")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="error-runs_on"' in html and "“cloud” is not an answer" in html
    assert 'id="error-needs_refresh"' in html
    assert 'id="error-acts_for_user"' not in html
    # The valid answer is kept.
    assert re.search(r'name="acts_for_user" value="yes"[^>]*checked', html)


def test_edit_link_shows_the_form_with_the_answers(client):
    response = client.get(f"/advisor?edit=1&{query('no', 'spa', 'yes')}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<form" in html
    assert html.count("checked") == 3


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ("", "acts_for_user"),
        ("acts_for_user=yes&needs_refresh=no", "runs_on"),
        ("acts_for_user=yes&runs_on=spa&needs_refresh=often", "needs_refresh"),
    ],
)
def test_api_errors_are_json_400s_naming_the_parameter(client, params, parameter):
    response = client.get(f"/api/advice?{params}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert parameter in body["error"]
