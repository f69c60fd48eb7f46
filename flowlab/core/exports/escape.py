"""One way per format to write a value into an export, so that no value breaks out.

Values in a run come from providers (issuers, endpoints, answers) and from what a
browser brought back: they may hold line breaks, terminal escapes, quotes, HTML or
template syntax. Every exporter writes them only through these functions.
"""

from __future__ import annotations

import html
import re
import shlex
import unicodedata
from urllib.parse import quote

# Printable ASCII minus the braces REST Client reads as ``{{variables}}``.
URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "{}")
# Inline syntax; ``_`` only where it could open or close emphasis (not inside words).
MARKDOWN_ACTIVE = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def plain(text: object) -> str:
    """One line of visible text: line breaks, tabs, control and format characters
    (terminal escapes, bidi overrides) each become a space."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
                   else ch for ch in str(text))


def url(text: str) -> str:
    """A URL (or part of one) with spaces, controls, non-ASCII and braces
    percent-encoded: one token on a request line, never a template."""
    return quote(text, safe=URL_SAFE)


# --- bash -------------------------------------------------------------------------


def sh_word(text: str) -> str:
    """A shell word in single quotes: bash reads nothing inside as syntax."""
    return shlex.quote(text)


def sh_comment(text: str) -> str:
    """``# text`` on one line, with nothing a terminal would act on."""
    return "# " + plain(text)


# --- .http (VS Code REST Client, JetBrains HTTP Client) ---------------------------


def http_text(text: str) -> str:
    """A request line, header value, variable value or body on one line; ``{{``
    is split up, since both clients would substitute a variable there."""
    return plain(text).replace("{{", "{ {").replace("}}", "} }")


def http_comment(text: str) -> str:
    """``# text``; text starting with ``@`` would be read as a directive."""
    text = http_text(text)
    return "# " + ("(@)" + text[1:] if text.lstrip().startswith("@") else text)


# --- Markdown (CommonMark with GitHub tables) -------------------------------------


def md_text(text: str) -> str:
    """Inline text: HTML shown as text, no emphasis, link, code or table syntax."""
    escaped = html.escape(plain(text), quote=False)
    return MARKDOWN_ACTIVE.sub(r"\\\1", escaped)


def md_code(text: str, table: bool = False) -> str:
    """A code span longer than any backtick run inside; ``|`` escaped in tables."""
    text = plain(text)
    ticks = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    span = f"{ticks}{pad}{text}{pad}{ticks}"
    return span.replace("|", "\\|") if table else span


def md_fence(text: str, info: str) -> str:
    """A fenced block longer than any backtick run inside; lines kept, other
    control characters made spaces (a lone CR would be a line break)."""
    lines = re.split(r"\r\n|\r|\n", text.rstrip())
    body = "\n".join(plain(line) for line in lines)
    longest = max((len(r) for r in re.findall("`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{plain(info)}\n{body}\n{fence}\n"
