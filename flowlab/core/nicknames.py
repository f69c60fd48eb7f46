"""Attendees' nicknames for the room's leaderboard: optional, chosen by the
attendee, one per browser id, changeable and removable. A clear of the room keeps
them (a new session's scores start from zero, the names stay). Flask-free."""

from __future__ import annotations

import time
import unicodedata

from sqlalchemy import delete
from sqlalchemy import select

from flowlab.core.storage.db import LAB
from flowlab.core.storage.db import upsert
from flowlab.core.storage.tables import nicknames

MAX_LENGTH = 24


class NicknameError(ValueError):
    """A nickname refused, with the sentence that says why."""


def clean(typed: str) -> str:
    """``typed`` trimmed, or NicknameError: 1 to 24 characters, none of them a
    control or formatting character (which could hide or reorder text, such as a
    right-to-left override, on the presenter's screen)."""
    name = typed.strip()
    if not name:
        raise NicknameError("Type a nickname, or remove yours with the other button.")
    if len(name) > MAX_LENGTH:
        raise NicknameError(f"A nickname is at most {MAX_LENGTH} characters; "
                            f"this one has {len(name)}.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
           for c in name):
        raise NicknameError("A nickname cannot hold control characters (such as "
                            "a tab, a new line, or a right-to-left mark).")
    return name


def get(browser: str | None) -> str | None:
    if not browser:
        return None
    return LAB.get().execute(select(nicknames.c.nickname).where(
        nicknames.c.browser == browser)).scalar()


def put(browser: str, name: str) -> None:
    """Keep ``clean(name)`` as ``browser``'s nickname."""
    values = {"browser": browser, "nickname": clean(name), "updated_at": time.time()}
    upsert(LAB.get(), nicknames, values, ("browser",),
           lambda new: {"nickname": new.nickname, "updated_at": new.updated_at})


def remove(browser: str) -> None:
    LAB.get().execute(delete(nicknames).where(nicknames.c.browser == browser))


def of(browsers: set[str]) -> dict[str, str]:
    """The nicknames of those of ``browsers`` that have one."""
    if not browsers:
        return {}
    rows = LAB.get().execute(select(nicknames.c.browser, nicknames.c.nickname)
                             .where(nicknames.c.browser.in_(sorted(browsers))))
    return {browser: name for browser, name in rows}
