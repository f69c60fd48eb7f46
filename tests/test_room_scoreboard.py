"""The room's scoreboard over HTTP (issue 20, part 4): per lab (and per exercise, or
any other registered source) how many attendees started and solved it since the last
clear; nicknames; a leaderboard the presenter shows or hides; the results as CSV."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import urljoin

import requests

from flowlab.core.scoreboard import Source
from flowlab.web.session import services
from tests.conftest import make_app
from tests.forms import submit
from tests.labs_helpers import run_of
from tests.labs_helpers import start

LAB = "csrf-state"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')




def play(victim: requests.Session, server, variant: str, attack: bool = True):
    """Start the csrf-state lab's ``variant`` and, if ``attack``, fall for the
    bait: the attack succeeds (vulnerable) or is blocked (defended). The run."""
    bait_page = start(victim, server, LAB, variant)
    if attack:
        bait = requests.get(bait_page, timeout=10)
        link = bait.text.split('id="bait" href="', 1)[1].split('"', 1)[0]
        page = victim.get(unescape(link), timeout=10)
        said = "Attack succeeded" if variant == "vulnerable" else "Attack failed"
        assert said in page.text
    return run_of(server, bait_page)


def solve(victim: requests.Session, server) -> str:
    """Both halves of the lab: the attack seen working, then seen blocked. The
    browser id the lab run hangs on (to check that it never leaves the server)."""
    play(victim, server, "vulnerable")
    return play(victim, server, "defended").browser


def room(session, server) -> dict:
    answer = session.get(server("/presenter/room.json"), timeout=10)
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json()


def item(data: dict, kind: str = "lab", item_id: str = LAB) -> dict:
    return next(i for i in data["items"] if (i["kind"], i["id"]) == (kind, item_id))


def nickname(session, server, name: str) -> requests.Response:
    page = session.get(server("/room/nickname"), timeout=10)
    return submit(session, page, "Save my nickname", nickname=name)


def presenter_post(session, server, button: str) -> requests.Response:
    page = session.get(server("/presenter/room"), timeout=10)
    done = submit(session, page, button)
    assert done.status_code == 303, done.text
    return session.get(server(done.headers["Location"]), timeout=10)


def test_attendees_who_started_and_solved_each_lab_are_counted(lab_server):
    server, presenter = lab_server, requests.Session()
    before = item(room(presenter, server))
    assert (before["started"], before["solved"]) == (0, 0)
    assert before["title"] and set(before) == {"kind", "id", "title", "started",
                                               "solved"}
    alice, bob = requests.Session(), requests.Session()
    play(alice, server, "vulnerable", attack=False)  # started, not attacked yet
    assert (item(room(presenter, server))["started"],
            item(room(presenter, server))["solved"]) == (1, 0)
    bob_id = solve(bob, server)
    counts = item(room(presenter, server))
    assert (counts["started"], counts["solved"]) == (2, 1)
    # Half a lab is not solved: the attack worked on the vulnerable one only.
    play(alice, server, "vulnerable")
    assert item(room(presenter, server))["solved"] == 1
    alice_id = play(alice, server, "defended").browser
    assert item(room(presenter, server))["solved"] == 2
    page = presenter.get(server("/presenter/room"), timeout=10).text
    assert f'data-score="lab/{LAB}/started">2<' in page
    assert f'data-score="lab/{LAB}/solved">2<' in page
    assert "Refresh" in page  # the page's own refresh, without script
    # The presenter's own lab runs are left out, as their runs are.
    solve(presenter, server)
    assert item(room(presenter, server))["started"] == 2
    # Counts only: no browser id leaves the server.
    for browser in (alice_id, bob_id):
        assert browser not in page and browser not in str(room(presenter, server))


def test_a_solve_counts_after_its_run_is_replaced(lab_server):
    """A new run of a variant replaces the last one (and a run lasts an hour): what
    the wire showed is kept for the room, even if nobody looked at the room."""
    server, alice = lab_server, requests.Session()
    solved = play(alice, server, "vulnerable")
    play(alice, server, "vulnerable", attack=False)  # replaces the solved run
    assert services(server.app).labs.store.get(solved._id) is None
    play(alice, server, "defended")
    counts = item(room(requests.Session(), server))
    assert (counts["started"], counts["solved"]) == (1, 1)


def test_a_second_source_counts_its_own_kind(lab_server):
    """Any kind of item comes in as one more source (the exercises are one; a
    test-only kind here, beside them)."""
    server = lab_server
    alice = requests.Session()
    alice_id = solve(alice, server)
    nickname(alice, server, "Alice")
    rows = [("ex-a", alice_id, 100.0, 160.0), ("ex-a", "attempt-1", 120.0, None),
            ("ex-b", "attempt-2", 130.0, None)]
    services(server.app).scoreboard.register(Source(
        "drill", {"ex-a": "Build a URL", "ex-b": "Read a 403"},
        lambda since: [row for row in rows if row[2] >= since]))
    data = room(requests.Session(), server)
    assert {(i["id"], i["started"], i["solved"]) for i in data["items"]
            if i["kind"] == "drill"} == {("ex-a", 2, 1), ("ex-b", 1, 0)}
    assert item(data)["solved"] == 1  # the labs as before
    page = requests.get(server("/presenter/room"), timeout=10).text
    assert "Build a URL" in page and 'data-score="drill/ex-a/solved">1<' in page
    presenter = requests.Session()
    presenter_post(presenter, server, "Show the leaderboard")
    board = room(presenter, server)["leaderboard"]
    assert board["entries"] == [{"nickname": "Alice", "solved": 2}]


def test_nickname_is_optional_escaped_limited_and_changeable(lab_server):
    server, alice = lab_server, requests.Session()
    form = alice.get(server("/room/nickname"), timeout=10)
    assert form.status_code == 200 and 'name="nickname"' in form.text
    assert 'maxlength="24"' in form.text
    saved = nickname(alice, server, "  <script>x</script>  ")
    assert saved.status_code == 303
    page = alice.get(server(saved.headers["Location"]), timeout=10)
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "<script>x</script>" not in page.text
    assert 'value="&lt;script&gt;x&lt;/script&gt;"' in page.text
    for bad, error in [("x" * 25, "at most 24 characters"),
                       ("   ", "Type a nickname"),
                       ("ab\x07cd", "control characters"),
                       ("a\u202eb", "control characters")]:
        refused = nickname(alice, server, bad)
        assert refused.status_code == 400, bad
        assert error in refused.text
        assert 'aria-invalid="true"' in refused.text
        kept = TOKEN.sub("", refused.text)
        assert f'value="{bad.strip() or bad}"' in unescape(kept) or bad == "   "
    assert "&lt;script&gt;x&lt;/script&gt;" in alice.get(
        server("/room/nickname"), timeout=10).text  # a refusal changed nothing
    changed = nickname(alice, server, "Ada")
    assert "Ada" in alice.get(server(changed.headers["Location"]), timeout=10).text
    # Without the form's token: refused.
    refused = alice.post(server("/room/nickname"), data={"nickname": "Eve"},
                         timeout=10)
    assert refused.status_code == 400
    assert 'value="Ada"' in alice.get(server("/room/nickname"), timeout=10).text
    # Reachable by attendees from the home page and the labs.
    for path in ("/", "/labs/"):
        assert 'href="/room/nickname"' in alice.get(server(path), timeout=10).text
    removed = submit(alice, alice.get(server("/room/nickname"), timeout=10),
                     "Remove my nickname")
    assert removed.status_code == 303
    assert 'value="Ada"' not in alice.get(server("/room/nickname"), timeout=10).text


def test_leaderboard_hidden_until_the_presenter_shows_it(lab_server):
    server, presenter = lab_server, requests.Session()
    alice, bob, carol = requests.Session(), requests.Session(), requests.Session()
    nickname(alice, server, "<b>Alice</b>")
    nickname(bob, server, "Bob")
    solve(bob, server)  # Bob solves first, Alice after: same count, Bob ahead
    solve(alice, server)
    solve(carol, server)  # no nickname: counted, not named
    hidden = room(presenter, server)
    assert hidden["leaderboard"] == {"shown": False}
    page = presenter.get(server("/presenter/room"), timeout=10).text
    assert "Bob" not in page and "Alice" not in page
    assert "Show the leaderboard" in page
    shown = presenter_post(presenter, server, "Show the leaderboard")
    assert "Hide the leaderboard" in shown.text
    assert "&lt;b&gt;Alice&lt;/b&gt;" in shown.text and "<b>Alice" not in shown.text
    board = room(presenter, server)["leaderboard"]
    assert board == {"shown": True, "anonymous": 1, "entries": [
        {"nickname": "Bob", "solved": 1}, {"nickname": "<b>Alice</b>", "solved": 1}]}
    assert shown.text.index("Bob") < shown.text.index("&lt;b&gt;Alice")
    assert "1 attendee without a nickname" in shown.text
    # The projector's view: large type, the same board.
    big = presenter.get(server("/presenter/room/leaderboard"), timeout=10)
    assert big.status_code == 200 and "large-type" in big.text
    assert "Bob" in big.text and "&lt;b&gt;Alice&lt;/b&gt;" in big.text
    # Anyone may look at the room page, but names only while it is shown.
    assert "Bob" in requests.get(server("/presenter/room"), timeout=10).text
    hidden_again = presenter_post(presenter, server, "Hide the leaderboard")
    assert "Bob" not in hidden_again.text
    assert room(presenter, server)["leaderboard"] == {"shown": False}
    assert "Bob" not in presenter.get(
        server("/presenter/room/leaderboard"), timeout=10).text


def test_leaderboard_toggle_and_csv_are_the_presenters_only(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    remote = {"REMOTE_ADDR": "192.168.1.7"}
    assert client.post("/presenter/room/leaderboard",
                       data={"shown": "1"}).status_code == 400  # no CSRF token
    page = client.get("/presenter/room", environ_base=remote)
    assert page.status_code == 200 and b"Show the leaderboard" not in page.data
    assert b"Download the results" not in page.data
    token = TOKEN.search(client.get("/room/nickname").text).group(1)
    refused = client.post("/presenter/room/leaderboard", environ_base=remote,
                          data={"csrf_token": token, "shown": "1"})
    assert refused.status_code == 403 and "can show or hide" in refused.text
    assert client.get("/presenter/room.json").json["leaderboard"] == {"shown": False}
    assert client.get("/presenter/room.csv", environ_base=remote).status_code == 403
    assert client.get("/presenter/room.csv").status_code == 200


def test_results_as_csv_without_browser_ids_or_formulas(lab_server):
    server, presenter = lab_server, requests.Session()
    alice, bob = requests.Session(), requests.Session()
    nickname(alice, server, "=HYPERLINK(\"x\")")
    nickname(bob, server, "@bob")
    ids = [solve(alice, server), play(bob, server, "vulnerable").browser]
    for name in ("-2+3", "+1"):  # started only
        other = requests.Session()
        nickname(other, server, name)
        ids.append(play(other, server, "vulnerable", attack=False).browser)
    page = presenter.get(server("/presenter/room"), timeout=10).text
    assert 'href="/presenter/room.csv"' in page
    answer = presenter.get(server("/presenter/room.csv"), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == ["attendee", "nickname", "kind", "item", "title",
                             "started_at", "solved_at"]
    mine = {row["nickname"]: row for row in rows if row["item"] == LAB}
    assert set(mine) == {"'=HYPERLINK(\"x\")", "'@bob", "'-2+3", "'+1"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mine["'@bob"]["started_at"])
    assert mine["'@bob"]["solved_at"] == ""
    assert mine["'=HYPERLINK(\"x\")"]["solved_at"] >= mine[
        "'=HYPERLINK(\"x\")"]["started_at"]
    assert mine["'@bob"]["kind"] == "lab" and mine["'@bob"]["title"]
    attendees = {row["attendee"] for row in rows}
    assert len(attendees) == 4 and all(re.fullmatch(r"[0-9a-f]{12}", a)
                                       for a in attendees)
    for browser in ids:
        assert browser not in answer.text
    assert "test-secret-key" not in answer.text
    # Every cell a spreadsheet would run is neutralised, whatever starts it.
    for cell in (c for row in rows for c in row.values()):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_clearing_the_room_starts_the_scores_again(lab_server):
    server, presenter = lab_server, requests.Session()
    alice = requests.Session()
    nickname(alice, server, "Alice")
    solve(alice, server)
    run = play(alice, server, "vulnerable", attack=False)  # a fresh run, started
    trace = len(run.trace)
    presenter_post(presenter, server, "Show the leaderboard")
    assert item(room(presenter, server))["solved"] == 1
    cleared = presenter_post(presenter, server, "Clear the room")
    assert "The room is cleared" in cleared.text
    after = room(presenter, server)
    assert (item(after)["started"], item(after)["solved"]) == (0, 0)
    assert after["leaderboard"]["entries"] == []
    # Nothing deleted: the run goes on, the nickname stays.
    assert len(run.trace) == trace
    assert 'value="Alice"' in alice.get(server("/room/nickname"), timeout=10).text
    solve(alice, server)
    after = room(presenter, server)
    assert (item(after)["started"], item(after)["solved"]) == (1, 1)
    assert after["leaderboard"]["entries"] == [{"nickname": "Alice", "solved": 1}]


def test_exercises_started_and_solved_are_counted_in_the_room(lab_server):
    """Issue 20 §4 counts exercises too: an attempt from a page is its browser's;
    one through the JSON API, with no cookie, is an attendee of its own."""
    browser, presenter = requests.Session(), requests.Session()
    page = browser.get(lab_server("/exercises/client-credentials"), timeout=10)
    started = browser.post(lab_server("/exercises/client-credentials/attempts"),
                           data={"csrf_token": TOKEN.search(page.text).group(1)},
                           allow_redirects=False, timeout=10)
    assert started.status_code == 303
    counted = item(room(presenter, lab_server), "exercise", "client-credentials")
    assert (counted["started"], counted["solved"]) == (1, 0)

    attempt = requests.post(
        lab_server("/api/exercises/client-credentials/attempts"), timeout=10).json()
    token = requests.post(attempt["issuer"] + "/api/token", timeout=10,
                          data={"grant_type": "client_credentials"},
                          auth=(attempt["client_id"], attempt["client_secret"]))
    assert token.status_code == 200
    search = requests.get(attempt["issuer"] + "/v1/search?q=a&type=artist",
                          headers={"Authorization": "Bearer "
                                   + token.json()["access_token"]}, timeout=10)
    assert search.status_code == 200
    status = requests.get(urljoin(lab_server("/"), attempt["status"]), timeout=10)
    assert status.json()["solved"] is True
    counted = item(room(presenter, lab_server), "exercise", "client-credentials")
    assert (counted["started"], counted["solved"]) == (2, 1)
