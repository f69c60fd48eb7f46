"""The room's scoreboard: per item (a lab, an exercise), how many attendees started
it and how many solved it since the room was last cleared, and who leads.

Flask-free. The items come from sources registered at start-up (``Scoreboard.
register``): each has a kind ("lab", "exercise"), its items' titles, and
``rows(since)``, one row per attendee and item started since then:
``(item_id, attendee_key, started_at, solved_at or None)``. An attendee key is a
browser id where there is one (what nicknames hang on), else any stable key; it
never leaves the server: the CSV names attendees by ``pseudonym``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

Row = tuple[str, str, float, float | None]  # item, attendee, started, solved
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV
# injection"): such a cell is written with a quote in front.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ("attendee", "nickname", "kind", "item", "title", "started_at",
              "solved_at")


@dataclass(frozen=True)
class Source:
    """Where one kind of item's progress comes from."""

    kind: str
    titles: Mapping[str, str]  # item id -> title, in the order items are shown
    rows: Callable[[float], list[Row]]


@dataclass
class Scoreboard:
    """The registered sources (the labs' from ``flowlab.labs``; exercises too)."""

    sources: list[Source] = field(default_factory=list)

    def register(self, source: Source) -> None:
        self.sources.append(source)

    def collect(self, since: float, leave_out: str | None) -> list[Result]:
        """Every source's rows since ``since``, one per attendee and item (the
        first start, the first solve), without ``leave_out``'s (the presenter's
        own browser)."""
        found: dict[tuple, Result] = {}
        for source in self.sources:
            for item, attendee, started, solved in source.rows(since):
                key = (source.kind, item, attendee)
                if attendee == leave_out:
                    continue
                seen = found.get(key)
                if seen is not None:
                    started = min(started, seen.started)
                    solved = min((t for t in (solved, seen.solved) if t is not None),
                                 default=None)
                found[key] = Result(source.kind, item, source.titles.get(item, item),
                                    attendee, started, solved)
        return list(found.values())


@dataclass(frozen=True)
class Result:
    """One attendee's progress on one item."""

    kind: str
    item: str
    title: str
    attendee: str
    started: float
    solved: float | None


@dataclass(frozen=True)
class ItemCount:
    kind: str
    id: str
    title: str
    started: int
    solved: int


@dataclass(frozen=True)
class Leader:
    nickname: str
    solved: int


def counts(sources: Iterable[Source], results: list[Result]) -> list[ItemCount]:
    """Attendees who started and who solved each item, every item listed."""
    found = {(r.kind, r.item): [0, 0] for r in results}
    for result in results:
        tally = found[(result.kind, result.item)]
        tally[0] += 1
        tally[1] += result.solved is not None
    return [ItemCount(source.kind, item, title, *found.get((source.kind, item), (0, 0)))
            for source in sources for item, title in source.titles.items()]


def leaders(results: list[Result], nicknames: Mapping[str, str]
            ) -> tuple[list[Leader], int]:
    """Nicknamed attendees by items solved, ties to the earliest last solve; and
    how many attendees solved something without a nickname (not named)."""
    solves: dict[str, list[float]] = {}
    for result in results:
        if result.solved is not None:
            solves.setdefault(result.attendee, []).append(result.solved)
    named = sorted((a for a in solves if a in nicknames),
                   key=lambda a: (-len(solves[a]), max(solves[a])))
    return ([Leader(nicknames[a], len(solves[a])) for a in named],
            len(solves) - len(named))


def pseudonym(key: bytes, room: float, attendee: str) -> str:
    """A short name for ``attendee`` in this room's session: an HMAC under the
    app's secret key, so no browser id leaves the server and none can be guessed
    back; a new one after each clear."""
    message = f"room {room!r} {attendee}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def as_csv(results: list[Result], nicknames: Mapping[str, str],
           name: Callable[[str], str]) -> str:
    """One row per attendee and item, times in ISO 8601 UTC; ``name`` gives the
    attendee's pseudonym."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in sorted(results, key=lambda r: (r.kind, r.item, r.started)):
        writer.writerow([_cell(v) for v in (
            name(r.attendee), nicknames.get(r.attendee, ""), r.kind, r.item, r.title,
            _iso(r.started), _iso(r.solved))])
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _iso(when: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)) if when else ""
