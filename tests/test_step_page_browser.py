"""The step page's budgets in a real Chromium, for every step of every flow: the
moment in the first screen, the token response near the top, pages short with the
folds closed, nothing cut off on a phone, large type for a room; audited with axe."""

from __future__ import annotations

import pytest

from tests.a11y import serious_violations
from tests.flowrunner import FlowRunner

pytestmark = pytest.mark.browser

FLOWS = ("authorization-code", "authorization-code-pkce", "client-credentials",
         "implicit")
SIZES = {"desktop": (1440, 900, False), "large-type": (1280, 720, True),
         "phone": (390, 844, False)}
TALLEST = 4000  # px, with every fold closed
RESPONSE_WITHIN = 1500  # px from the top, for a token step's response

MEASURE = """() => {
  const top = (el) => el ? el.getBoundingClientRect().top + window.scrollY : null;
  const main = document.querySelector('#moment .message');
  const answer = document.querySelector('#response');
  return {
    height: document.documentElement.scrollHeight,
    h1: top(document.querySelector('h1')),
    message: top(main),
    response: top(answer),
    token: !!answer && /"access_token"/.test(answer.textContent),
    steps: top(document.querySelector('.run-steps')),
    stepEnd: document.querySelector('.run-main').getBoundingClientRect().bottom
      + window.scrollY,
  };
}"""

# Text containers wider inside than outside cut their text off (unless they scroll).
CUT_OFF = """() => [...document.querySelectorAll(
    'main p, main li, main h1, main h2, main h3, main td, main th, main summary, '
    + 'main pre, main .wire-url, main code, main .table-scroll, main .step-bar')]
  .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
          && getComputedStyle(el).overflowX === 'visible')
  .map((el) => el.tagName + '.' + el.className)"""

# The diagram's labels as rendered: font size times the drawing's scale.
# Buttons of one form that stack on a phone: the gap between each and the next
# below it (a touch target needs its own space, WCAG 2.5.8).
STACKED_GAPS = """() => [...document.querySelectorAll('main form')].flatMap((form) => {
  const boxes = [...form.querySelectorAll('.button')].map(
    (b) => b.getBoundingClientRect()).filter((r) => r.height > 0);
  return boxes.slice(1).map((r, i) => [boxes[i], r])
    .filter(([above, below]) => below.top >= above.bottom - 1)
    .map(([above, below]) => below.top - above.bottom);
})"""

LABELS = """() => [...document.querySelectorAll('.sequence svg')]
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .flatMap((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')].map(
      (t) => parseFloat(getComputedStyle(t).fontSize) * scale);
  })"""


@pytest.fixture(scope="module")
def finished(live_server) -> dict:
    """Each flow run to its end once, over HTTP, with the browser cookies it used."""
    runs = {}
    for flow_id in FLOWS:
        runner = FlowRunner(live_server).start(flow_id)
        runner.run_all()
        assert "That is the whole flow" in runner.page.text, flow_id
        runs[flow_id] = runner
    return runs


def _open_as(page, runner: FlowRunner, large: bool = False) -> None:
    """Make the browser the one that started the run (runs belong to a browser)."""
    url = runner.server.url
    cookies = [{"name": c.name, "value": c.value, "url": url}
               for c in runner.session.cookies]
    if large:
        cookies.append({"name": "flowlab_large_type", "value": "1", "url": url})
    page.context.add_cookies(cookies)


def _steps(runner: FlowRunner):
    for number in range(1, runner.step_count() + 1):
        yield number, f"{runner.run_url}?step={number}"


@pytest.mark.only_reads
@pytest.mark.parametrize("size", ["desktop", "large-type"])
@pytest.mark.parametrize("flow_id", FLOWS)
def test_the_moment_comes_first_and_pages_stay_short(page, finished, flow_id, size):
    width, height, large = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    _open_as(page, finished[flow_id], large)
    token_steps = 0
    for number, url in _steps(finished[flow_id]):
        page.goto(url)
        seen = page.evaluate(MEASURE)
        where = f"{flow_id} step {number} at {size}: {seen}"
        assert seen["height"] < TALLEST, where
        first = seen["message"] if seen["message"] is not None else seen["h1"]
        assert first < height, where
        if seen["token"]:
            token_steps += 1
            assert seen["response"] < RESPONSE_WITHIN, where
    assert token_steps >= 1 or flow_id == "implicit"  # its token is in a fragment


@pytest.mark.only_reads
@pytest.mark.parametrize("flow_id", FLOWS)
def test_on_a_phone_nothing_is_cut_off_and_the_step_comes_first(page, finished,
                                                                 flow_id):
    width, height, _ = SIZES["phone"]
    page.set_viewport_size({"width": width, "height": height})
    _open_as(page, finished[flow_id])
    for number, url in _steps(finished[flow_id]):
        page.goto(url)
        seen = page.evaluate(MEASURE)
        where = f"{flow_id} step {number}"
        # The step first: the list of steps starts below the screen or the step.
        assert seen["h1"] < height / 2, where
        assert seen["steps"] > min(height, seen["stepEnd"] - 1), where
        overflow = page.evaluate("document.documentElement.scrollWidth"
                                 " - document.documentElement.clientWidth")
        assert overflow <= 0, where
        assert page.evaluate(CUT_OFF) == [], where
        assert all(gap >= 4 for gap in page.evaluate(STACKED_GAPS)), where
        labels = page.evaluate(LABELS)
        if labels:
            assert min(labels) >= 11, where
        else:  # the drawing gave way to its text version
            assert page.locator(".seq-narrow li").first.is_visible(), where


@pytest.mark.only_reads
@pytest.mark.parametrize("flow_id", FLOWS)
def test_every_step_passes_axe(page, finished, flow_id):
    page.set_viewport_size({"width": 1440, "height": 900})
    _open_as(page, finished[flow_id])
    for number, url in _steps(finished[flow_id]):
        page.goto(url)
        assert serious_violations(page) == [], f"{flow_id} step {number}"


@pytest.mark.only_reads
def test_large_type_and_phone_pass_axe(page, finished):
    runner = finished["authorization-code-pkce"]
    _open_as(page, runner, large=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{runner.run_url}?step=4")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert serious_violations(page) == []


def test_reveal_and_jump_keep_the_place(page, finished):
    runner = finished["client-credentials"]
    page.set_viewport_size({"width": 1440, "height": 900})
    page.emulate_media(reduced_motion="reduce")  # no smooth scrolling to wait for
    _open_as(page, runner)
    page.goto(f"{runner.run_url}?step=1")
    page.get_by_role("link", name="Reveal them").click()
    page.wait_for_url("**reveal=1#moment")
    moment = page.evaluate("document.querySelector('#moment')"
                           ".getBoundingClientRect().top")
    assert page.evaluate("window.scrollY") > 0 and 0 <= moment < 200
    page.get_by_role("link", name="Jump to the response").click()
    bar = page.locator(".step-bar").bounding_box()
    response = page.locator("#response").bounding_box()
    assert bar["y"] == 0, "the step bar stays in view"
    assert bar["height"] <= response["y"] < 900


@pytest.mark.no_javascript
def test_folds_open_without_javascript(page, finished):
    runner = finished["authorization-code"]
    page.set_viewport_size({"width": 1440, "height": 900})
    _open_as(page, runner)
    page.goto(f"{runner.run_url}?step=4")
    fold = page.locator("details.other-headers").first
    assert not fold.locator("table").is_visible()
    fold.locator("summary").first.click()
    assert fold.locator("table").is_visible()
    assert "User-Agent" in fold.inner_text()
    raw = page.locator("details.raw").first
    raw.locator("summary").first.click()
    assert "User-Agent: python-requests" in raw.inner_text()
