"""Submit HTML forms the way a browser would, for HTTP-level tests."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._button: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""),
                               "method": a.get("method", "get").lower(),
                               "fields": [], "buttons": []})
        elif tag == "input" and self.forms:
            kind = a.get("type", "text")
            if kind in ("submit", "button"):
                self.forms[-1]["buttons"].append(
                    {"name": a.get("name"), "value": a.get("value", ""),
                     "text": a.get("value", "")})
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1]["fields"].append((a.get("name"), a.get("value", "")))
        elif tag == "button" and self.forms:
            self._button = {"name": a.get("name"), "value": a.get("value", ""),
                            "text": ""}
            self.forms[-1]["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None


def find_form(html: str, button_text: str) -> tuple[dict, dict]:
    """The form holding a button whose text contains ``button_text``, and the button."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        for button in form["buttons"]:
            if button_text.lower() in " ".join(button["text"].split()).lower():
                return form, button
    raise AssertionError(f"no form with a {button_text!r} button")


def submit(session, response, button_text: str, **overrides):
    """Click the button labelled ``button_text`` on ``response``'s page."""
    form, button = find_form(response.text, button_text)
    data = [(k, v) for k, v in form["fields"] if k and k not in overrides]
    if button["name"]:
        data.append((button["name"], button["value"]))
    data += list(overrides.items())
    url = urljoin(response.url, form["action"] or response.url)
    if form["method"] == "post":
        # 30 s: a Next runs a step whose provider may take up to the outbound
        # deadline (HTTP_DEADLINE, 20 s) to answer, on a machine busy with the suite.
        return session.post(url, data=data, allow_redirects=False, timeout=30)
    return session.get(url, params=data, allow_redirects=False, timeout=10)
