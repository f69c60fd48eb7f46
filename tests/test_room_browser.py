"""The room's scoreboard in Chromium: the presenter's page counts an attendee's solve
without a reload and says so politely; the leaderboard shown and hidden; the
nickname form; axe clean at 390×844, 1440×900 and 1280×720 in large type."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.a11y import serious_violations
from tests.test_layout_browser import STICKING_OUT
from tests.test_presenter_browser import PROJECTOR
from tests.test_presenter_browser import _large_type
from tests.test_room_scoreboard import nickname
from tests.test_room_scoreboard import solve

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
SOLVED = '[data-score="lab/csrf-state/solved"]'


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    assert page.evaluate(STICKING_OUT) == []


def test_the_room_counts_a_solve_live_and_says_so(page, lab_server):  # noqa: F811
    server = lab_server
    page.set_viewport_size(DESK)
    page.goto(server("/presenter/room"))
    assert page.get_by_role("link", name="Refresh").count() == 1
    expect(page.locator(SOLVED)).to_have_text("0")
    page.evaluate("window.__same_page = true")
    solve(requests.Session(), server)
    expect(page.locator(SOLVED)).to_have_text("1", timeout=15000)
    expect(page.locator('[data-score="lab/csrf-state/started"]')).to_have_text("1")
    news = page.locator("#scores-news")
    assert news.get_attribute("role") == "status"
    expect(news).to_contain_text("CSRF on the redirect back: 1 solved")
    assert page.evaluate("window.__same_page") is True  # not reloaded
    assert serious_violations(page) == []


def test_the_presenter_shows_and_hides_the_leaderboard(page, lab_server):  # noqa: F811
    server = lab_server
    ada = requests.Session()
    nickname(ada, server, "Ada the Attacker")
    solve(ada, server)
    page.set_viewport_size(DESK)
    page.goto(server("/presenter/room"))
    board = page.locator(".room-leaderboard")
    expect(board).not_to_contain_text("Ada")
    page.get_by_role("button", name="Show the leaderboard").click()
    expect(page.locator(".flash")).to_have_text("The leaderboard is shown.")
    expect(board.locator("li")).to_have_text(["Ada the Attacker 1 solved"])
    assert serious_violations(page) == []
    # Another attendee's solve reaches the list without a reload.
    page.evaluate("window.__same_page = true")
    grace = requests.Session()
    nickname(grace, server, "<i>Grace</i>")
    solve(grace, server)
    expect(board.locator("li")).to_have_text(
        ["Ada the Attacker 1 solved", "<i>Grace</i> 1 solved"], timeout=15000)
    assert page.evaluate("window.__same_page") is True
    # The projector's view, in large type at 1280×720.
    page.set_viewport_size(PROJECTOR)
    page.get_by_role("link", name="Open the leaderboard in large type").click()
    expect(page.locator("html.large-type")).to_have_count(1)
    expect(page.locator(".leader-name").first).to_have_text("Ada the Attacker")
    size = page.locator(".leader-name").first.evaluate(
        "(el) => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 32
    fits(page)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the room").click()
    page.get_by_role("button", name="Hide the leaderboard").click()
    expect(page.locator(".flash")).to_have_text("The leaderboard is hidden.")
    expect(board).not_to_contain_text("Ada")


def test_the_nickname_form_with_the_keyboard_on_a_phone(page, lab_server):  # noqa: F811
    server = lab_server
    page.set_viewport_size(PHONE)
    page.goto(server("/"))
    page.get_by_role("link", name="Your nickname in the room").click()
    field = page.get_by_label("Nickname")
    field.fill("Ada\u202eLovelace")  # a right-to-left override inside
    field.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("control characters")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("Ada\u202eLovelace")  # kept, as typed
    fits(page)
    assert serious_violations(page) == []
    field.fill("Lin")
    field.press("Enter")
    expect(page.locator(".flash")).to_have_text("Your nickname is saved.")
    expect(page.locator(".nickname")).to_have_text("Lin")
    fits(page)
    assert serious_violations(page) == []


@pytest.mark.only_reads
@pytest.mark.parametrize("size", ["phone", "projector"])
def test_room_pages_fit_in_every_size(page, lab_server, size):  # noqa: F811
    server = lab_server
    mia = requests.Session()
    nickname(mia, server, "M" * 24)
    solve(mia, server)
    presenter = requests.Session()
    room = presenter.get(server("/presenter/room"), timeout=10)
    token = room.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    presenter.post(server("/presenter/room/leaderboard"), timeout=10,
                   data={"csrf_token": token, "shown": "1"})
    if size == "projector":
        page.set_viewport_size(PROJECTOR)
        _large_type(page, server)
    else:
        page.set_viewport_size(PHONE)
    for path in ("/presenter/room", "/presenter/room/leaderboard", "/room/nickname"):
        page.goto(server(path))
        fits(page)
        assert serious_violations(page) == [], path
