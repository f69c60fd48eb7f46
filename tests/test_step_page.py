"""The step page over HTTP: the moment first, generic headers folded, each term
explained once, JSON indented with the exact bytes kept, and the small fixes."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests import standin
from tests.conftest import LiveServer
from tests.flowrunner import FlowRunner

GENERIC = ("Date", "Content-Length", "Sec-Fetch-Mode", "Accept-Encoding",
           "Connection", "Server", "Cache-Control", "User-Agent")


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def _blocks(html: str, css: str) -> list[str]:
    """The plain text of each ``<div class="{css}">`` highlighted block."""
    found = re.findall(rf'<div class="{css}"[^>]*>(.*?</pre>)', html, re.S)
    return [_text(block) for block in found]


@pytest.fixture(scope="module")
def code_run(live_server):
    """One authorization-code run, finished, in its own browser session."""
    runner = FlowRunner(live_server).start("authorization-code")
    runner.run_all()
    return runner


def _step(runner: FlowRunner, title: str, **args) -> str:
    """The page of the first step whose title contains ``title``."""
    for number in range(1, runner.step_count() + 1):
        query = "&".join(f"{k}={v}" for k, v in args.items())
        page = runner.get(f"{runner.run_url}?step={number}&{query}").text
        if title in re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1):
            return page
    raise AssertionError(f"no step called {title!r}")


def test_generic_headers_fold_and_the_exact_bytes_stay(code_run):
    page = _step(code_run, "Exchange the code", reveal=1)
    head, raw = _blocks(page, "wire-view")[0], _blocks(page, "wire")[0]
    assert head.startswith("POST ") and "grant_type=authorization_code" in head
    assert "Authorization: Basic" in head and "Content-Type:" in head
    for name in ("User-Agent", "Accept-Encoding", "Connection", "Content-Length"):
        assert f"\n{name}:" not in head and f"\n{name}:" in raw
    # The fold says how many headers it holds, and holds each of them.
    folded = re.search(r'<details class="fold other-headers">\s*<summary>(\d+) other '
                       r'headers</summary>(.*?)</table>', page, re.S)
    raw_headers = raw.partition("\n\n")[0].splitlines()[1:]
    assert int(folded.group(1)) == len(raw_headers) - 2  # all but the two above
    assert "Accept-Encoding" in folded.group(2)


def test_json_is_indented_and_the_raw_bytes_are_one_click_away(code_run):
    page = _step(code_run, "Exchange the code", reveal=1)
    pretty, raw = _blocks(page, "wire-view")[1], _blocks(page, "wire")[1]
    body = raw.partition("\n\n")[2].strip()
    assert "\n" not in body  # the sandbox sends one line, as Spotify does
    assert '{\n  "access_token": ' in pretty
    assert json.loads(pretty.partition("\n\n")[2]) == json.loads(body)
    assert re.search(r"<details class=\"fold raw\">\s*<summary>The exact bytes "
                     r"received</summary>", page)


def test_each_term_is_explained_once_and_later_mentions_link_to_it(code_run):
    page = _step(code_run, "Come back to the app")
    for term in ("code", "state", "iss"):
        assert page.count(f'id="term-{term}"') == 1, term
        assert f'href="#term-{term}"' in page, term  # the callback query repeats it
    explained = re.findall(r'<tr id="term-([^"]+)"', page)
    assert len(explained) == len(set(explained))
    assert "Sec-Ch-Ua" not in _blocks(page, "wire-view")[0]


def test_the_bar_comes_first_with_previous_next_and_the_response(code_run):
    page = _step(code_run, "Exchange the code")
    bar = re.search(r'<nav class="step-bar".*?</nav>', page, re.S).group(0)
    assert 'id="prev"' in bar and 'id="next"' in bar and "Keys:" in bar
    assert 'href="#response"' in bar and 'id="response"' in page
    assert page.index('class="step-bar"') < page.index("<h1")
    assert page.index('id="response"') < page.index("What each part means")


def test_reveal_keeps_the_place(code_run):
    page = _step(code_run, "Exchange the code")
    link = re.search(r'href="([^"]*reveal=1[^"]*)"', page).group(1)
    assert unescape(link).endswith("#moment") and 'id="moment"' in page
    revealed = code_run.get(code_run.server(unescape(link).split("#")[0])).text
    again = re.search(r'href="([^"]*)">Mask them again', revealed).group(1)
    assert again.endswith("#moment")


def test_the_cookie_note_is_not_masked(code_run):
    page = _step(code_run, "Come back to the app")
    assert "Cookie: (this browser's session cookie: not recorded)" in _text(page)
    assert "(this brow…" not in page


def test_hidden_captions_read_properly(code_run):
    captions = []
    for title in ("authorization URL", "Come back", "Exchange the code", "Call the"):
        page = _step(code_run, title)
        captions += [_text(c) for c in re.findall(r"<caption[^>]*>(.*?)</caption>",
                                                  page, re.S)]
    assert captions and all(c.startswith("What ") and c.endswith(" means")
                            for c in captions), captions
    assert not [c for c in captions if "the what" in c.lower()]


def test_the_fragment_page_links_back_to_the_run_without_javascript(live_server):
    runner = FlowRunner(live_server).start("implicit")
    runner.next()
    page = runner.get(live_server("/run/callback"))
    noscript = re.search(r"<noscript>(.*?)</noscript>", page.text, re.S).group(1)
    run_path = runner.run_url.removeprefix(live_server.url)
    assert f'href="{run_path}"' in noscript


def test_provider_reasons_render_code_not_backticks(live_server):
    runner = FlowRunner(live_server)
    page = runner.use_provider("Use Spotify", client_id="0123456789abcdef" * 2)
    assert "<code>response_type=token</code>" in page.text
    assert "`" not in _text(page.text).split("Flows you can run here")[1][:2000]


@pytest.fixture
def silent(serve):
    """The lab with Spotify pointed at a stand-in that answers too late."""
    fake = LiveServer(standin.make_standin(), backchannel=False)
    fake.app.mode = "slow"
    yield serve(SPOTIFY_ACCOUNTS_URL=fake.url, SPOTIFY_API_URL=fake.url,
                HTTP_TIMEOUT=1)
    fake.close()


def test_a_step_without_an_answer_says_so_and_lights_no_success(silent):
    runner = FlowRunner(silent)
    runner.use_provider("Use Spotify", client_id="0123456789abcdef" * 2,
                        client_secret="s3cret-0123456789")
    page = runner.start("client-credentials").next().text
    assert "run-step-failed" in page and "did not answer" in _text(page)
    assert "shown below" not in _text(page) and "no exchange to show" in _text(page)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    first = re.search(r'<g class="seq-msg[^"]*">.*?</g>\s*<g class="seq-msg'
                      r'([^"]*)">(.*?)</g>', svg, re.S)
    assert "seq-failed" in first.group(1)
    assert "no answer" in first.group(2) and "200 access token" not in first.group(2)


def test_a_token_response_shows_its_no_store_headers_up_front(code_run):
    """RFC 6749 §5.1: token responses carry Cache-Control: no-store; it is protocol."""
    page = _step(code_run, "Exchange the code")
    response = _blocks(page, "wire-view")[1]
    assert response.startswith("HTTP/1.1 200")
    assert "\nCache-Control: no-store" in response
    api = _blocks(_step(code_run, "Call the API with the access token"), "wire-view")[1]
    assert "\nCache-Control:" not in api


def test_the_private_port_in_the_exact_bytes_is_explained(code_run, live_server):
    """The token request went to the back-channel listener: its Host says a port
    the browser never used, and the page says what that port is (item 15)."""
    page = _step(code_run, "Exchange the code")
    sent = _blocks(page, "wire")[0]
    host = re.search(r"^Host: (\S+)$", sent, re.M).group(1)
    assert host != live_server.url.split("//")[1]  # not the address in the bar
    raw = page[page.index("The exact bytes sent"):]
    note = " ".join(_text(raw[:raw.index("</details>")]).split())
    assert f"Host: {host}: this port is the lab's private back channel" in note
    assert "The same endpoints are served at the public address" in note
    assert f'<a href="{live_server.url}/">{live_server.url}</a>' in raw
    # Only a request sent to the private port carries the note, not the response,
    # nor the request your browser sent to the app.
    assert page.count("backchannel-note") == 1
    assert "backchannel-note" not in _step(code_run, "Come back to the app")


def _step_list(html: str) -> list[tuple[str, str]]:
    """Each step of the step list: its ``<li>`` class and inner HTML."""
    nav = re.search(r'<nav class="run-steps".*?</nav>', html, re.S).group(0)
    return re.findall(r'<li class="run-step ([^"]+)">(.*?)</li>', nav, re.S)


def test_the_step_list_says_each_state_in_words(live_server):
    """Done, shown, next and later steps differ in words, not in colour alone; only
    steps already run are links, and the shown one is aria-current="step"."""
    runner = FlowRunner(live_server).start("authorization-code")
    runner.next()  # step 1 done: the authorization URL
    page = runner.get(f"{runner.run_url}?step=1").text
    steps = _step_list(page)
    words = [_text(re.search(r'<span class="step-state">(.*?)</span>\s*$', inner,
                             re.S).group(1)).split() for _, inner in steps]
    assert [state for state, _ in steps[:3]] == [
        "run-step-done", "run-step-next", "run-step-todo"]
    assert words[0][-3:] == ["done,", "shown", "here"]
    assert words[1][-1] == "next" and words[2][-2:] == ["to", "come"]
    assert 'aria-current="step"' in steps[0][1] and "<a " in steps[0][1]
    assert all("<a " not in inner for _, inner in steps[1:])
    assert page.count('aria-current="step"') == 1
    runner.authorize()  # on to step 2's page: step 1 is done, no longer shown
    steps = _step_list(runner.get(f"{runner.run_url}?step=2").text)
    assert "shown here" not in _text(steps[0][1]) and "done" in _text(steps[0][1])
    assert "shown here" in _text(steps[1][1])


@pytest.mark.parametrize(("base", "moved"), [
    ("http://localhost:5000", "http://127.0.0.1:5000/run/?x=1"),
    ("http://LocalHost", "http://127.0.0.1/run/?x=1"),
    ("http://127.0.0.1:5000", None)])
def test_the_runner_moves_localhost_to_the_loopback_literal(client, base, moved):
    """Spotify refuses ``localhost`` redirect URIs: the runner's pages move there."""
    answer = client.get("/run/?x=1", base_url=base)
    assert (answer.status_code, answer.headers.get("Location")) == (
        (307, moved) if moved else (200, None))
