"""The inspector's one answer (issue 22 §1): ``{"kind", "parts", "findings"}`` for a
pasted text, the same for the JSON API and the page. Nothing is kept or fetched."""

from __future__ import annotations

from flowlab.core.inspect.findings import fired
from flowlab.core.inspect.parts import parts
from flowlab.core.inspect.parts import redactor
from flowlab.core.inspect.recognize import Pasted
from flowlab.core.inspect.recognize import recognize

LIMIT = 64 * 1024  # the most a pasted text may be, in UTF-8 bytes


class TooBig(ValueError):
    """A pasted text over ``LIMIT``."""


def answer(text: str, glossary: dict, now: float) -> dict:
    """What the text is, its parts explained and masked, and what is wrong."""
    return explain(text, glossary, now)[0]


def explain(text: str, glossary: dict, now: float) -> tuple[dict, Pasted, list]:
    """The answer, with the text as read and the rules that fired (for the page's
    way into the lab, ``flowlab.core.inspect.lab``)."""
    if len(text.encode("utf-8", "replace")) > LIMIT:
        raise TooBig(f"The text is over {LIMIT // 1024} KB, the most the inspector "
                     "reads. Paste one message at a time.")
    pasted = recognize(text)
    redact = redactor(pasted)
    found = fired(pasted, redact, now) if pasted.fields else []
    return ({"kind": pasted.kind, "parts": parts(pasted, glossary, redact),
             "findings": [finding for _, finding in found]},
            pasted, [rule for rule, _ in found])
