"""Markdown to HTML for ``content/``: the renderer, highlighting code blocks, and
links to other pages rewritten to their routes. Imported when the first page or
snippet is rendered: start-up and pages without Markdown load no Markdown."""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from flowlab.core.highlight import CSS_CLASS

EXTENSIONS = ["tables", "fenced_code", "toc", "attr_list", "codehilite"]


def renderer() -> markdown.Markdown:
    """A new renderer (one per render: a Markdown instance keeps state)."""
    config = {"codehilite": {"css_class": CSS_CLASS, "guess_lang": False}}
    return markdown.Markdown(
        extensions=[*EXTENSIONS, _MarkdownLinks()], extension_configs=config
    )


class _LinkRewriter(Treeprocessor):
    """Turn relative links to ``x.md`` into links to the page's route, ``x``."""

    def run(self, root: Element) -> None:
        for link in root.iter("a"):
            href = link.get("href", "")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
                continue
            fragment = f"#{parts.fragment}" if parts.fragment else ""
            link.set("href", parts.path[: -len(".md")] + fragment)


class _MarkdownLinks(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        md.treeprocessors.register(_LinkRewriter(md), "md_links", 5)
