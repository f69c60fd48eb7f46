"""Presenter mode over HTTP: join page, speaker notes, the room's counts, the reset."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from html import unescape

import segno

from flowlab import create_app
from tests.conftest import ROOT
from tests.flowrunner import FlowRunner
from tests.forms import submit
from tests.sandbox_helpers import Sandbox

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NOTES = tomllib.loads((ROOT / "content" / "speaker-notes.toml").read_text())


def _qr_modules(svg: str) -> str:
    """The dark modules' path (the last one; a light background may come first)."""
    return re.findall(r' d="([^"]+)"', svg)[-1]


def test_join_page_draws_the_address_as_an_inline_qr_code(live_server, http):
    page = http.get(live_server("/workshop"))
    qr = SVG.search(page.text.split('class="join-qr"')[1]).group(0)
    # Drawn by the app: the same modules segno draws for this address, in the page.
    expected = segno.make(live_server.url + "/", error="m", micro=False)
    assert _qr_modules(qr) == _qr_modules(expected.svg_inline())
    assert 'role="img"' in qr and f"<title>QR code for {live_server.url}/" in qr
    # Nothing is fetched to draw it: no image, no link, no other host on the page.
    assert not re.search(r"\b(src|href)=", qr)
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', page.text):
        assert url.startswith(("/", "#", live_server.url)), url


def test_join_page_gives_the_command_that_serves_a_room(serve, http):
    server = serve(PUBLIC_URL="http://192.168.1.20:5000")
    page = unescape(http.get(server("/workshop")).text)
    assert ("FLOWLAB_PUBLIC_URL=http://192.168.1.20:5000 .venv/bin/python app.py"
            " --host 0.0.0.0 --port 5000") in page
    qr = SVG.search(page.split('class="join-qr"')[1]).group(0)
    assert _qr_modules(qr) == _qr_modules(segno.make("http://192.168.1.20:5000/",
                                                 error="m").svg_inline())
    # The flags exist: app.py's own help names them.
    usage = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    assert "--host" in usage and "--port" in usage


def test_every_speaker_note_belongs_to_a_step(tmp_path):
    flows = create_app({"TESTING": True, "SECRET_KEY": "k"},
                       instance_path=str(tmp_path)).extensions["flowlab"].runner.flows
    for flow_id, notes in NOTES.items():
        assert flow_id in flows
        ids = {step["id"] for step in flows[flow_id].steps}
        assert set(notes) <= ids, flow_id


def test_every_step_of_every_flow_has_a_speaker_note(tmp_path):
    flows = create_app({"TESTING": True, "SECRET_KEY": "k"},
                       instance_path=str(tmp_path)).extensions["flowlab"].runner.flows
    for flow_id, flow in flows.items():
        notes = NOTES.get(flow_id, {})
        missing = [step["id"] for step in flow.steps if not notes.get(step["id"])]
        assert missing == [], flow_id


def test_every_authorization_url_note_points_at_the_code_challenge():
    notes = {flow: n["authorization-url"] for flow, n in NOTES.items()
             if "authorization-url" in n}
    assert set(notes) >= {"authorization-code", "authorization-code-pkce", "implicit"}
    for flow, note in notes.items():
        assert "`code_challenge`" in note, flow
        if flow != "implicit":  # the implicit note points at its absence
            assert "S256" in note, flow


def test_presenter_view_has_notes_for_the_device_flow(serve):
    server = serve()
    presenter = FlowRunner(server).start("device-authorization")
    presenter.next()
    view = " ".join(presenter.get(server("/presenter")).text.split())
    assert "Now: step 1, The TV asks for a device code" in view
    assert "the short <code>user_code</code> it shows" in view


def test_presenter_view_shows_this_step_its_notes_and_the_next(serve):
    server = serve()
    presenter = FlowRunner(server).start("client-credentials")
    presenter.next()
    view = presenter.get(server("/presenter")).text
    assert "Now: step 1, Ask for a token with the client" in view
    assert "no refresh token, just ask again" in " ".join(view.split())
    assert "Then: step 2, Search the catalogue" in view
    assert 'id="next"' in view and 'data-follow="/presenter/now.json"' in view
    pinned = presenter.get(server("/presenter?step=4")).text
    assert "Now: step 4, Try a user endpoint: refused" in pinned
    assert "that is the line" in pinned.lower()


def test_presenter_view_follows_the_step_the_host_looks_at(serve):
    """Going back a step on the step page takes the presenter view back too."""
    server = serve()
    host = FlowRunner(server).start("client-credentials")
    for _ in range(3):
        host.next()
    assert "Now: step 3" in host.get(server("/presenter")).text
    host.get(host.run_url + "?step=1")  # ← Previous, twice
    view = host.get(server("/presenter")).text  # a reload, no script
    assert "Now: step 1, Ask for a token with the client" in view
    assert 'data-step="1"' in view
    now = host.session.get(server("/presenter/now.json"), timeout=10).json()
    assert now == {"run": host.run_url.rsplit("/", 1)[1], "done": 3, "step": 1}
    host.get(host.run_url + "?step=2")  # Next → (a link: the step is done)
    assert "Now: step 2" in host.get(server("/presenter")).text
    host.get(host.run_url + "?step=3")
    host.next()  # and on to a step not run yet: it runs, the view follows
    assert "Now: step 4" in host.get(server("/presenter")).text
    # Another browser's step page moves nothing here.
    other = FlowRunner(server).start("client-credentials")
    other.next()
    assert "Now: step 4" in host.get(server("/presenter")).text
    # A new run of the host's: the view follows it from its start page.
    host.start("authorization-code")
    view = host.get(server("/presenter")).text
    assert "Authorization code" in view and "Next up: step 1" in view


def _room(session, server) -> dict:
    answer = session.get(server("/presenter/room.json"), timeout=10)
    assert answer.headers["Cache-Control"] == "no-store"
    return {flow["id"]: flow for flow in answer.json()["flows"]}


def test_room_counts_attendees_runs_by_flow_and_step(serve):
    server = serve()
    first = FlowRunner(server).start("client-credentials")
    first.next()
    first.next()
    second = FlowRunner(server).start("authorization-code-pkce")
    second.next()
    FlowRunner(server).start("client-credentials")  # the same browser's second run
    presenter = FlowRunner(server).start("client-credentials")
    presenter.next()  # the presenter's own run is left out

    room = _room(presenter.session, server)
    cc, pkce = room["client-credentials"], room["authorization-code-pkce"]
    assert (cc["runs"], cc["not_started"]) == (2, 1)
    assert {s["id"]: s["runs"] for s in cc["steps"]} == {
        "token": 0, "search": 1, "artist": 0, "me-refused": 0}
    assert pkce["runs"] == 1 and pkce["steps"][0]["runs"] == 1
    assert room["implicit"]["runs"] == 0
    page = presenter.get(server("/presenter/room")).text
    assert 'data-count="client-credentials/search">1<' in page
    # Counts only: no run id, no browser, no token leaves the server.
    for runner in (first, second, presenter):
        run_id = runner.run_url.rsplit("/", 1)[1]
        assert run_id not in page and run_id not in str(room)
    assert set(cc) == {"id", "name", "runs", "not_started", "finished", "stopped",
                       "steps"}


def _access_token(runner: FlowRunner, step: int = 4) -> str:
    revealed = runner.get(f"{runner.run_url}?step={step}&reveal=1").text
    text = unescape(re.sub(r"<[^>]+>", "", revealed))
    return re.search(r"access_token\"?[^A-Za-z0-9_-]*([A-Za-z0-9_-]{20,})",
                     text).group(1)


def _to_token_step(runner: FlowRunner) -> None:
    runner.next()
    runner.authorize()
    runner.next()


def _device_token(server, session=None) -> tuple[FlowRunner, str]:
    """A finished device run (RFC 8628) in ``session``, and its access token."""
    runner = FlowRunner(server)
    runner.session = session or runner.session
    runner.start("device-authorization").run_all()
    return runner, _access_token(runner, step=3)


def test_reset_clears_the_presenters_runs_consents_and_grants_only(serve):
    server = serve(SANDBOX_DEVICE_INTERVAL=1)
    sandbox = Sandbox(server.url, server.app.config)
    presenter = FlowRunner(server).start("authorization-code-pkce")
    _to_token_step(presenter)
    attendee = FlowRunner(server).start("authorization-code-pkce")
    _to_token_step(attendee)
    mine, theirs = _access_token(presenter), _access_token(attendee)
    assert sandbox.api("/me", mine).status_code == 200
    # The TV app too: one device run each, the presenter's in the same browser.
    tv, mine_tv = _device_token(server, presenter.session)
    attendee_tv, theirs_tv = _device_token(server)
    assert sandbox.api("/me", mine_tv).status_code == 200

    confirm = presenter.get(server("/presenter/reset"))
    assert "Reset the demo?" in confirm.text and "(2 now)" in confirm.text
    done = presenter.follow(submit(presenter.session, confirm, "Reset the demo"))
    assert "Reset done: 2 of your runs" in unescape(done.text)

    assert presenter.session.get(presenter.run_url, timeout=10).status_code == 404
    assert presenter.session.get(tv.run_url, timeout=10).status_code == 404
    assert sandbox.api("/me", mine).status_code == 401
    assert sandbox.api("/me", mine_tv).status_code == 401  # the TV app's grant went
    # The attendee's runs and their tokens are as they were.
    assert attendee.get(attendee.run_url).status_code == 200
    assert sandbox.api("/me", theirs).status_code == 200
    assert attendee_tv.get(attendee_tv.run_url).status_code == 200
    assert sandbox.api("/me", theirs_tv).status_code == 200
    assert "200" in attendee.next().text
    # The consent was forgotten and the presenter logged out: both pages show again.
    again = FlowRunner(server)
    again.session = presenter.session
    again.start("authorization-code-pkce").next()
    login = again.follow(again.session.get(again.next_link(), allow_redirects=False))
    assert "Continue as Alice" in login.text
    consent = again.follow(submit(again.session, login, "Alice"))
    assert "Agree" in consent.text


def test_reset_needs_the_form_and_the_presenters_machine(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k"},
                     instance_path=str(tmp_path))
    client = app.test_client()
    assert client.post("/presenter/reset").status_code == 400  # no CSRF token
    remote = {"REMOTE_ADDR": "192.168.1.7"}
    assert client.get("/presenter/reset", environ_base=remote).status_code == 403
    assert client.get("/presenter/room", environ_base=remote).status_code == 200


def test_clear_the_room_is_the_presenters_and_needs_the_form(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k"},
                     instance_path=str(tmp_path))
    client = app.test_client()
    assert client.post("/presenter/room/clear").status_code == 400  # no CSRF token
    remote = {"REMOTE_ADDR": "192.168.1.7"}
    page = client.get("/presenter/room", environ_base=remote)
    assert page.status_code == 200 and b"Clear the room" not in page.data
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/workshop").text).group(1)
    refused = client.post("/presenter/room/clear", data={"csrf_token": token},
                          environ_base=remote)
    assert refused.status_code == 403
    assert "can clear the room" in refused.text


def test_presenter_clears_the_rooms_counts_and_runs_go_on(serve):
    server = serve()
    attendee = FlowRunner(server).start("client-credentials")
    attendee.next()
    presenter = FlowRunner(server)
    assert _room(presenter.session, server)["client-credentials"]["runs"] == 1
    page = presenter.get(server("/presenter/room"))
    done = presenter.follow(submit(presenter.session, page, "Clear the room"))
    assert "The room is cleared" in done.text and done.url.endswith("/presenter/room")
    assert "Counting runs started since the room was cleared at" in done.text
    room = _room(presenter.session, server)
    assert all(flow["runs"] == 0 and not any(s["runs"] for s in flow["steps"])
               for flow in room.values())
    assert 'data-count="client-credentials/runs">0<' in done.text
    # The attendee's run goes on; a run started now is counted.
    assert "Search the catalogue" in attendee.next().text
    assert attendee.step_count() == 2
    FlowRunner(server).start("client-credentials").next()
    cc = _room(presenter.session, server)["client-credentials"]
    assert cc["runs"] == 1 and cc["steps"][0]["runs"] == 1
