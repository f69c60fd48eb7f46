"""A pasted text's parts explained from the glossary the runner annotates with
(``moment.term_key``: one source of the texts), every secret masked as the runner
masks it (``flowlab.core.redact``: RFC 6749 §10.3-§10.5, RFC 6750 §5.3)."""

from __future__ import annotations

from flowlab.core.inspect.recognize import Pasted
from flowlab.core.redact import SECRET_HEADERS
from flowlab.core.redact import Redactor
from flowlab.core.redact import message_secrets
from flowlab.core.redact import secret_field
from flowlab.core.runner.moment import term_key


def redactor(pasted: Pasted) -> Redactor:
    """Masks every credential the text carries, by the runner's field rules."""
    found: set[str] = set()
    for where, name, value in pasted.leaves:
        if where == "header" and name.lower() in SECRET_HEADERS:
            found.update(message_secrets({"start_line": "GET / HTTP/1.1",
                                          "headers": [[name, value]]}))
        elif where != "header" and secret_field(name, value):
            found.add(value)
    return Redactor(found)


def explain(glossary: dict, where: str, name: str) -> tuple[str, str]:
    """The glossary's meaning of a wire name and where it is defined."""
    key = term_key(glossary, "header" if where == "header" else "json", name)
    term = glossary[key] if key else {}
    return term.get("meaning", ""), term.get("rfc", "")


def parts(pasted: Pasted, glossary: dict, redact: Redactor) -> list[dict]:
    """``{"name", "value", "explain", "ref"}`` for every part, in wire order."""
    found = []
    for where, name, value in pasted.fields:
        meaning, rfc = explain(glossary, where, name)
        found.append({"name": name, "value": redact(value), "explain": meaning,
                      "ref": rfc})
    return found
