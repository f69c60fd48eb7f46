"""Content: Markdown pages and TOML data files from ``content/``, loaded once.

A page is a ``.md`` file that may open with a TOML front-matter block between two
``+++`` lines. Files and folders whose names start with ``_`` are skipped. Every
``.toml`` file is data, read with tomllib and keyed by its path without the suffix.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from markupsafe import Markup

from flowlab.core import tomlcache
from flowlab.core.highlight import highlight

__all__ = ["Content", "Page", "highlight"]

FRONT_MATTER = "+++"


@dataclass(frozen=True)
class Page:
    """A page: its path and front-matter ``meta``, read at start-up; its HTML and
    headings, rendered from ``body`` on first use and kept (start-up renders none)."""

    path: str
    meta: dict
    body: str = field(default="", repr=False, compare=False)
    _rendered: list = field(default_factory=list, repr=False, compare=False)

    @property
    def html(self) -> Markup:
        return self._render()[0]

    @property
    def toc(self) -> list:
        return self._render()[1]

    def _render(self) -> tuple[Markup, list]:
        if not self._rendered:  # a race renders twice, the same HTML both times
            md = _markdown()
            html = Markup(md.convert(self.body))
            self._rendered[:] = [(html, getattr(md, "toc_tokens", []))]
        return self._rendered[0]

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.path.rsplit("/", 1)[-1]

    def __getitem__(self, key: str):
        return self.meta[key]

    def __html__(self) -> str:
        return self.html


class Content:
    """Every page and data file under one folder, parsed and rendered up front."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._diagrams: dict[str, Markup] = {}
        self._pages: dict[str, Page] = {}
        self._data: dict[str, dict] = {}
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).with_suffix("").as_posix()
            if any(part.startswith("_") for part in path.relative_to(self.root).parts):
                continue
            if path.suffix == ".md":
                self._pages[name] = load_page(name, path)
            elif path.suffix == ".toml":
                self._data[name] = _read_toml(path)

    def page(self, path: str) -> Page | None:
        """The page at ``path`` (``"lessons/implicit"``), or None."""
        return self._pages.get(path.strip("/"))

    def pages(self, prefix: str = "") -> list[Page]:
        """Pages under ``prefix``, ordered by their ``order`` meta, then title."""
        prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        found = [p for name, p in self._pages.items() if name.startswith(prefix)]
        return sorted(found, key=lambda p: (p.meta.get("order", 999), p.title))

    def data(self, name: str) -> dict:
        """The parsed ``content/<name>.toml``; KeyError names a missing file."""
        try:
            return self._data[name]
        except KeyError:
            raise KeyError(f"no data file content/{name}.toml") from None

    def diagram(self, page: Page, draw: Callable[..., str]) -> Markup:
        """A page's sequence diagram (front matter ``diagram``), drawn by ``draw``
        (the web side's ``_sequence.html`` macro) on first use and kept: it never
        changes."""
        html = self._diagrams.get(page.path)
        if html is None:
            label = f"Sequence diagram: {page.title}"
            html = self._diagrams[page.path] = Markup(
                draw(page.meta["diagram"], label=label))
        return html


def load_page(name: str, path: Path) -> Page:
    """Read one Markdown file and split its front matter (rendered when first shown)."""
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), str(path))
    return Page(name, meta, body)


def split_front_matter(text: str, source: str = "<text>") -> tuple[dict, str]:
    """Split a leading ``+++`` TOML block from the Markdown that follows it."""
    if not text.startswith(FRONT_MATTER + "\n"):
        return {}, text
    head, sep, body = text[len(FRONT_MATTER) + 1 :].partition(f"\n{FRONT_MATTER}\n")
    if not sep:
        raise ValueError(f"{source}: front matter has no closing {FRONT_MATTER}")
    try:
        return tomlcache.loads(head), body
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: bad front matter: {exc}") from exc


@functools.lru_cache(maxsize=512)
def render_markdown(text: str) -> Markup:
    """Render a short Markdown snippet (a step note, a caveat) to HTML.

    Snippets come from ``content/``, a fixed set, so each is rendered once.
    """
    return Markup(_markdown().convert(text))


def _read_toml(path: Path) -> dict:
    try:
        return tomlcache.read(path)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _markdown():
    from flowlab.core.markup import renderer

    return renderer()
