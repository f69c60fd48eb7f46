"""The advisor's rules, as plain functions, and its views (HTML and JSON)."""

from __future__ import annotations

import re
import tomllib
from html import unescape
from pathlib import Path

import pytest
from markupsafe import escape

from flowlab.core.advisor import InvalidAnswer
from flowlab.core.advisor import check_answers
from flowlab.core.advisor import recommend
from tests.a11y import serious_violations

TABLE_FILE = Path(__file__).resolve().parent.parent / "content" / "decision-table.toml"
AC = "authorization-code"
PKCE = "authorization-code-pkce"
CC = "client-credentials"
IMPLICIT = "implicit"
RUNS_ON = ["server", "spa", "bff", "native", "cli", "headless", "backend", "device"]

# Every combination of answers and the flow it must get. The honest edge cases: a CLI
# acting for a user is a public client (PKCE, loopback redirect), on a machine with no
# browser too (PKCE, the redirect pasted back); a backend job acting for a user is a
# server app (code + secret + PKCE, consent once on a page you host); so is a browser
# app with a backend of its own (BFF), and a browser app that must work while the user
# is away should get one; a TV with no browser gets the code flow run by your backend,
# the user signing in on a phone; with no user, client credentials, its secret on a
# backend of yours.
EXPECTED = [
    # acts_for_user, runs_on, needs_refresh, recommended
    ("yes", "server", "yes", AC),
    ("yes", "server", "no", AC),
    ("yes", "spa", "yes", AC),
    ("yes", "spa", "no", PKCE),
    ("yes", "bff", "yes", AC),
    ("yes", "bff", "no", AC),
    ("yes", "native", "yes", PKCE),
    ("yes", "native", "no", PKCE),
    ("yes", "cli", "yes", PKCE),
    ("yes", "cli", "no", PKCE),
    ("yes", "headless", "yes", PKCE),
    ("yes", "headless", "no", PKCE),
    ("yes", "backend", "yes", AC),
    ("yes", "backend", "no", AC),
    ("yes", "device", "yes", AC),
    ("yes", "device", "no", AC),
    ("no", "server", "yes", CC),
    ("no", "server", "no", CC),
    ("no", "spa", "yes", CC),
    ("no", "spa", "no", CC),
    ("no", "bff", "yes", CC),
    ("no", "bff", "no", CC),
    ("no", "native", "yes", CC),
    ("no", "native", "no", CC),
    ("no", "cli", "yes", CC),
    ("no", "cli", "no", CC),
    ("no", "headless", "yes", CC),
    ("no", "headless", "no", CC),
    ("no", "backend", "yes", CC),
    ("no", "backend", "no", CC),
    ("no", "device", "yes", CC),
    ("no", "device", "no", CC),
]

# Where "Run it live" leads when it is not the recommended flow's default run (item 7):
# in-page PKCE starts the run whose page sends the token request; a TV, the device flow.
LIVE = {
    ("yes", "spa", "no"): f"/run/{PKCE}?run_as=spa",
    ("yes", "device", "yes"): "/run/device-authorization",
    ("yes", "device", "no"): "/run/device-authorization",
}

# Each case's one-line headline (None: the flow's name says it all) and the words that
# must appear in its caveats and in the lessons it sends the reader to next.
EDGE_CASES = [
    # user, runs_on, refresh, headline words, caveat words, lessons
    ("yes", "server", "no", "client secret, plus PKCE",
     ["Spotify's own server example", "code_challenge"], ["spotify-vs-best-practice"]),
    ("yes", "backend", "yes", "client secret, plus PKCE, through a sign-in page",
     ["never opens a browser", "refresh token your server stored"], ["refresh-tokens"]),
    ("yes", "device", "yes", "no flow for a device without a browser",
     ["RFC 8628", "does not offer", "Never ask users to type their Spotify password"],
     ["device-authorization"]),
    ("yes", "cli", "yes", None,
     ["http://127.0.0.1:8080/callback", "refuses localhost", "keychain"],
     ["native-apps"]),
    ("no", "cli", "no", "not in the tool",
     ["inside a tool you distribute is not secret", "small backend of your own"], []),
    ("yes", "native", "no", None,
     ["system browser", "embedded web view", "RFC 8252 §8.12", "App Links",
      "Universal Links", "RFC 8252 §7.2", "custom scheme", "loopback"],
     ["native-apps"]),
    ("yes", "spa", "yes", "A backend-for-frontend",
     ["backend-for-frontend", "neither rotates it nor binds it"], ["browser-apps"]),
    ("yes", "bff", "no", "client secret, plus PKCE",
     ["session cookie", "No script on the page can then read a token"],
     ["browser-apps", "spotify-vs-best-practice"]),
    ("yes", "headless", "yes", "PKCE with a pasted redirect",
     ["no device grant", "pasted redirect", "carried-over refresh token"],
     ["device-authorization", "refresh-tokens"]),
    ("no", "headless", "no", "not in the tool",
     ["inside a tool you distribute is not secret", "in your keychain"],
     ["spotify-development-mode"]),
    ("no", "device", "no", None, ["Do not store a client secret on the device"], []),
    ("no", "backend", "yes", None, ["no refresh token"], []),
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
    runs_on = next(q for q in table["questions"] if q["id"] == "runs_on")
    assert [o["value"] for o in runs_on["options"]] == RUNS_ON
    assert len({row[:3] for row in EXPECTED}) == sizes[0] * sizes[1] * sizes[2] == 32


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


@pytest.mark.parametrize(("user", "runs_on", "refresh", "expected"), EXPECTED)
def test_every_result_mentions_development_mode(
    table, user, runs_on, refresh, expected
):
    """User data: the allow-list; no user (item 20): the February 2026 cuts."""
    result = recommend(answers(user, runs_on, refresh), table)
    caveats = [c for c in result.caveats if "Development Mode" in c]
    assert len(caveats) == 1
    assert "spotify-development-mode" in result.lessons
    if user == "yes":
        assert "allow-list" in caveats[0]
    else:
        for words in ("February 2026", "endpoints", "at most 10 results"):
            assert words in caveats[0], words


@pytest.mark.parametrize(
    ("user", "runs_on", "refresh", "headline", "words", "lessons"), EDGE_CASES
)
def test_edge_cases_get_honest_caveats(
    table, user, runs_on, refresh, headline, words, lessons
):
    result = recommend(answers(user, runs_on, refresh), table)
    if headline is None:
        assert result.headline is None
    else:
        assert headline in result.headline
    caveats = " ".join(result.caveats)
    for word in words:
        assert word in caveats, word
    assert set(lessons) <= set(result.lessons)


@pytest.mark.parametrize("runs_on", ["server", "backend"])
def test_server_apps_use_the_secret_and_pkce_not_either(table, runs_on):
    result = recommend(answers("yes", runs_on, "no"), table)
    assert result.recommended == AC
    assert "PKCE" in result.verdicts[AC].reason
    # PKCE alone is only "possible": it goes with the secret, not instead of it.
    assert result.verdicts[PKCE].verdict == "possible"
    assert "not instead" in result.verdicts[PKCE].reason


def test_server_reason_cites_the_best_practice(table):
    reason = recommend(answers("yes", "server", "yes"), table).verdicts[AC].reason
    assert "RFC 9700 §2.1.1" in reason and "OAuth 2.1" in reason


def test_a_user_rules_out_client_credentials(table):
    result = recommend(answers("yes", "server", "yes"), table)
    assert CC in result.path[0].ruled_out
    assert "/v1/me" in result.verdicts[CC].reason


@pytest.mark.parametrize("user", ["yes", "no"])
def test_a_cli_cannot_hold_a_secret(table, user):
    result = recommend(answers(user, "cli", "yes"), table)
    assert result.verdicts[AC].verdict == "not-suitable"
    assert AC in result.path[1].ruled_out


def test_a_smart_tv_gets_the_code_flow_on_a_backend(table):
    result = recommend(answers("yes", "device", "yes"), table)
    assert "phone" in result.verdicts[AC].reason
    assert "backend" in result.verdicts[AC].reason
    assert "RFC 8628" in result.path[1].reason
    assert result.verdicts[PKCE].verdict == "possible"


@pytest.mark.parametrize("runs_on", ["spa", "native", "device"])
def test_no_secret_in_a_public_app_that_needs_no_user(table, runs_on):
    result = recommend(answers("no", runs_on, "no"), table)
    assert result.recommended == CC
    assert "backend" in result.verdicts[CC].reason
    assert any("secret" in c and "backend" in c for c in result.caveats)


def test_client_credentials_asks_again_instead_of_refreshing(table):
    result = recommend(answers("no", "server", "yes"), table)
    assert result.recommended == CC
    assert "needs none" in result.verdicts[CC].reason
    assert any("no refresh token" in caveat for caveat in result.caveats)


@pytest.mark.parametrize("runs_on", ["server", "spa", "native", "cli", "backend"])
def test_refresh_caveat_tells_the_2026_story(table, runs_on):
    result = recommend(answers("yes", runs_on, "yes"), table)
    caveat = next(c for c in result.caveats if "six months" in c)
    for word in ("no longer carries a new refresh token", "PKCE", "2026-06-18",
                 "2026-07-20", "invalid_grant", "do not retry", "RFC 9700 §2.2.2"):
        assert word in caveat, word
    assert "refresh-tokens" in result.lessons
    assert "rotates it" not in result.verdicts[PKCE].reason


def test_a_headless_cli_gets_pkce_with_a_pasted_redirect(table):
    """Item 17: no browser on the machine is no reason for a backend and a secret."""
    for refresh in ("yes", "no"):
        result = recommend(answers("yes", "headless", refresh), table)
        assert result.recommended == PKCE
        reason = result.verdicts[PKCE].reason
        assert "pastes back the address" in reason
        assert "carries the refresh token over" in reason
        assert result.verdicts[AC].verdict == "not-suitable"
        assert "device-authorization" in result.lessons
        assert not any("pairing" in caveat for caveat in result.caveats)


def test_the_tv_keeps_the_backend_pairing_and_the_cli_its_own_answer(table):
    labels = {o["value"]: o["label"] for o in table["questions"][1]["options"]}
    assert "headless" not in labels["device"] and "smart TV" in labels["device"]
    assert "command-line tool on a machine with no browser" in labels["headless"]
    result = recommend(answers("yes", "device", "yes"), table)
    assert result.recommended == AC and "pairing code" in result.verdicts[AC].reason
    cli = recommend(answers("yes", "cli", "yes"), table)
    assert any("“a command-line tool on a machine with no browser”" in c
               for c in cli.caveats)


def test_a_browser_app_that_works_while_the_user_is_away_gets_a_bff(table):
    """Item 18: PKCE in the page would leave an unrotated refresh token there."""
    result = recommend(answers("yes", "spa", "yes"), table)
    assert result.recommended == AC
    assert "backend-for-frontend" in result.headline
    assert "secret and PKCE" in result.verdicts[AC].reason
    assert result.verdicts[PKCE].verdict == "possible"
    assert "RFC 9700 §2.2.2" in result.verdicts[PKCE].reason
    assert "six months" in result.verdicts[PKCE].reason
    # While the user is there, the page may run PKCE itself.
    assert recommend(answers("yes", "spa", "no"), table).recommended == PKCE


@pytest.mark.parametrize("user", ["yes", "no"])
@pytest.mark.parametrize("refresh", ["yes", "no"])
def test_a_browser_app_with_its_own_backend_is_a_server_app(table, user, refresh):
    """Item 19: the BFF answer follows the server rule."""
    bff = recommend(answers(user, "bff", refresh), table)
    server = recommend(answers(user, "server", refresh), table)
    assert bff.recommended == server.recommended
    assert bff.verdicts == server.verdicts
    assert bff.path[1].reason == server.path[1].reason
    assert "backend-for-frontend" in bff.path[1].reason
    assert set(server.caveats) <= set(bff.caveats)
    assert bff.headline == server.headline


@pytest.mark.parametrize(
    "wrong",
    ["a console, a headless box", "answer “a web server I control”",
     "Spotify rotates it", "store the new one", "replaces the secret",
     "takes the secret's place", "custom scheme (mobile)",
     "should use it to authenticate"],
)
def test_the_table_no_longer_says(wrong):
    assert wrong not in TABLE_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("given", "parameter"),
    [
        ({"runs_on": "spa", "needs_refresh": "no"}, "acts_for_user"),
        ({"acts_for_user": "maybe", "runs_on": "spa", "needs_refresh": "no"},
         "acts_for_user"),
        ({"acts_for_user": "yes", "runs_on": "cloud", "needs_refresh": "no"},
         "runs_on"),
        ({"acts_for_user": "yes", "runs_on": "machine", "needs_refresh": "no"},
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
    assert set(data) == {
        "recommended", "headline", "verdicts", "path", "caveats", "lessons", "runs",
        "live",
    }
    assert set(data["verdicts"][AC]) == {"verdict", "reason"}
    page = client.get(f"/advisor?{query(user, runs_on, refresh)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    live = re.search(r'<a class="button" href="([^"]+)"[^>]*>Run it live</a>', html)
    assert live.group(1).replace("&amp;", "&") == data["live"]["href"]
    default = f"/run/{expected}"
    assert data["live"]["href"] == LIVE.get((user, runs_on, refresh), default)
    assert f'href="/lessons/{expected}"' in html
    for flow, verdict in data["verdicts"].items():
        assert f'verdict verdict-{verdict["verdict"]}' in html, flow
    for slug in data["lessons"]:
        assert f'href="/lessons/{slug}"' in html
    if data["headline"]:
        assert escape(data["headline"]) in html


# --- "Run it live" starts what the advice is about (item 7), over HTTP ---------------

NAMES = {AC: "Authorization code", PKCE: "Authorization code with PKCE",
         CC: "Client credentials", "device-authorization": "Device authorization"}


@pytest.mark.parametrize(("user", "runs_on", "refresh", "expected"), EXPECTED)
def test_run_it_live_starts_the_flow_and_variant_of_the_advice(
    live_server, user, runs_on, refresh, expected
):
    """Every answer: the run's flow, and for in-page PKCE, the page's own request."""
    from html import unescape
    from urllib.parse import urljoin

    from tests.flowrunner import FlowRunner
    from tests.forms import submit

    flow = LIVE.get((user, runs_on, refresh), f"/run/{expected}")
    flow = flow.removeprefix("/run/").partition("?")[0]
    name, in_page = NAMES[flow], (user, runs_on, refresh) == ("yes", "spa", "no")
    runner = FlowRunner(live_server)
    advice = runner.get(live_server(f"/advisor?{query(user, runs_on, refresh)}"))
    link = re.search(r'<a class="button" href="([^"]+)"[^>]*>Run it live</a>',
                     advice.text).group(1)
    start = runner.get(urljoin(advice.url, unescape(link)))
    assert start.status_code == 200
    page = runner.follow(submit(runner.session, start, "Start the run"))
    title = re.search(r"<title>(?:Step \d+ · )?(.*?) · OAuth Flow Lab</title>",
                      page.text).group(1)
    assert title.partition(" (")[0] == name
    if name.startswith("Authorization code"):
        runner.next()  # the authorization URL
        page = runner.authorize()
        # The next step is the page's own token request, or the lab server's.
        assert ('data-spa-token="' in page.text) == in_page
        assert ("makes this page send the token request itself" in page.text) == (
            in_page)


def test_the_tv_advice_says_its_live_run_is_not_spotify(client):
    html = client.get(f"/advisor?{query('yes', 'device', 'yes')}").get_data(
        as_text=True)
    note = re.search(r'<p class="live-note" id="live-note">(.*?)</p>', html, re.S)
    assert "Spotify has no device grant" in unescape(note.group(1))
    assert 'href="/run/device-authorization" aria-describedby="live-note"' in html


def test_the_single_page_app_run_is_chosen_by_the_link(client):
    html = client.get("/run/authorization-code-pkce?run_as=spa",
                      base_url="http://127.0.0.1").get_data(as_text=True)
    assert 'name="run_as" value="spa" checked' in html
    assert 'name="run_as" value="server" checked' not in html


def test_the_tv_result_page_is_honest(client):
    html = client.get(f"/advisor?{query('yes', 'device', 'no')}").get_data(as_text=True)
    assert "<h1 id=\"result-title\">Authorization code</h1>" in html
    assert "Spotify has no flow for a device without a browser" in html
    assert "RFC 8628" in html
    assert 'href="/lessons/device-authorization"' in html
    assert 'href="/run/device-authorization">Run it in the sandbox</a>' in html


def test_form_without_answers_is_a_plain_get_form(client):
    response = client.get("/advisor")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'method="get"' in html and 'action="/advisor"' in html
    for name in ("acts_for_user", "runs_on", "needs_refresh"):
        assert f'name="{name}"' in html
    for value in RUNS_ON:
        assert f'name="runs_on" value="{value}"' in html
    assert "field-error" not in html


def test_form_documents_the_json_api(client, table):
    html = client.get("/advisor").get_data(as_text=True)
    section = html[html.index('id="api"'):]
    assert "GET /api/advice" in section
    assert 'href="/api/advice/questions"' in section
    for question in table["questions"]:
        assert f"<code>{question['id']}</code>" in section
        for option in question["options"]:
            label = escape(option["label"])
            assert f"<code>{option['value']}</code>: {label}" in section
    # The example link answers every question and works as printed.
    example = re.search(r'href="(/api/advice\?[^"]+)"', section).group(1)
    response = client.get(example.replace("&amp;", "&"))
    assert response.status_code == 200 and response.get_json()["recommended"]


def test_api_lists_the_questions_and_their_answers(client, table):
    data = client.get("/api/advice/questions").get_json()
    assert data["endpoint"] == "/api/advice" and data["method"] == "GET"
    listed = {
        q["parameter"]: [a["value"] for a in q["answers"]] for q in data["questions"]
    }
    assert listed == {
        "acts_for_user": ["yes", "no"],
        "runs_on": RUNS_ON,
        "needs_refresh": ["yes", "no"],
    }
    assert all(q["label"] and q["help"] for q in data["questions"])
    device = next(q for q in data["questions"] if q["parameter"] == "runs_on")
    assert any("smart TV" in a["label"] for a in device["answers"])


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
        ("acts_for_user=yes&runs_on=tv&needs_refresh=no", "runs_on"),
        ("acts_for_user=yes&runs_on=spa&needs_refresh=often", "needs_refresh"),
    ],
)
def test_api_errors_are_json_400s_naming_the_parameter(
    client, table, params, parameter
):
    response = client.get(f"/api/advice?{params}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert parameter in body["error"]
    question = next(q for q in table["questions"] if q["id"] == parameter)
    assert body["allowed"] == [o["value"] for o in question["options"]]
    assert body["questions"] == "/api/advice/questions"


def test_home_table_notes_what_spotify_leaves_out(client):
    html = client.get("/").get_data(as_text=True)
    assert "What the table leaves out" in html
    assert "RFC 8628" in html and 'href="/lessons/device-authorization"' in html
    assert 'href="/lessons/spotify-vs-best-practice"' in html


# --- In a real browser: the new results read well on a phone -----------------------


@pytest.mark.only_reads
@pytest.mark.browser
@pytest.mark.parametrize(
    "path",
    [
        f"/advisor?{query('yes', 'device', 'yes')}",
        f"/advisor?{query('yes', 'backend', 'yes')}",
        f"/advisor?{query('no', 'cli', 'no')}",
        f"/advisor?{query('yes', 'headless', 'yes')}",
        f"/advisor?{query('yes', 'bff', 'no')}",
        f"/advisor?{query('yes', 'spa', 'yes')}",
        f"/advisor?{query('yes', 'spa', 'no')}",
        "/advisor",
    ],
)
def test_new_pages_pass_axe_and_fit_a_phone(page, live_server, path):
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(live_server(path))
    assert serious_violations(page) == []
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_form_documents_the_live_run_in_the_json(client):
    section = client.get("/advisor").get_data(as_text=True)
    section = section[section.index('id="api"'):]
    for key in ("live", "run_as", "href", "note"):
        assert f"<code>{key}</code>" in section, key
