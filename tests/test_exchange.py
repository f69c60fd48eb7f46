"""The exchange model, its body views, and capture of real wire bytes."""

from __future__ import annotations

import base64

import requests

from flowlab.core.http import NOT_RECORDED
from flowlab.core.http import Exchange
from flowlab.core.http import Message
from flowlab.core.http import basic_credentials
from flowlab.core.http import content_type
from flowlab.core.http import from_wsgi
from flowlab.core.http import s256
from flowlab.core.runner.capture import capture_session
from flowlab.core.runner.capture import exchange_of


def test_fields_cover_query_headers_and_form_body():
    message = Message(
        "POST /api/token?x=1 HTTP/1.1",
        [("Content-Type", "application/x-www-form-urlencoded")],
        "grant_type=authorization_code&code=abc+def",
    )
    assert message.fields() == [
        ("query", "x", "1"),
        ("header", "Content-Type", "application/x-www-form-urlencoded"),
        ("form", "grant_type", "authorization_code"),
        ("form", "code", "abc def"),
    ]


def test_json_fields_are_flattened_to_paths():
    message = Message(
        "HTTP/1.1 200 OK",
        [("Content-Type", "application/json; charset=utf-8")],
        '{"error": {"status": 401, "message": "x"}, "images": [{"url": "u"}]}',
    )
    assert [(n, v) for w, n, v in message.fields() if w == "json"] == [
        ("error.status", "401"), ("error.message", "x"), ("images[].url", "u"),
    ]


def test_unknown_or_broken_bodies_give_no_fields():
    html = Message("HTTP/1.1 200 OK", [("Content-Type", "text/html")], "<p>")
    broken = Message("HTTP/1.1 200 OK", [("Content-Type", "application/json")], "{")
    assert [w for w, _, _ in html.fields()] == ["header"]
    assert [w for w, _, _ in broken.fields()] == ["header"]


def test_exchange_round_trips_through_its_serializer():
    exchange = Exchange(Message("GET / HTTP/1.1", [("Host", "h")]),
                        Message("HTTP/1.1 204 No Content"), note="n")
    assert Exchange.from_dict(exchange.to_dict()) == exchange


def test_capture_records_the_bytes_that_reached_the_server(live_server):
    session = capture_session(requests.Session())
    response = session.post(live_server("/sandbox/api/token"),
                            data={"grant_type": "client_credentials"},
                            auth=("id", "s:e%c"), timeout=5)
    exchange = exchange_of(session, response)
    assert exchange.request.start_line == "POST /sandbox/api/token HTTP/1.1"
    assert exchange.request.header("Host") == live_server.url.split("//")[1]
    assert exchange.request.header("Authorization").startswith("Basic ")
    assert exchange.request.body == b"grant_type=client_credentials"
    assert exchange.request.text == "grant_type=client_credentials"
    assert exchange.response.start_line.startswith(f"HTTP/1.1 {response.status_code} ")
    assert exchange.response.body == response.content


def test_body_is_bytes_with_a_text_view_decoded_by_its_charset():
    latin = Message("HTTP/1.1 200 OK",
                    [("Content-Type", "text/plain; charset=latin-1")],
                    "café".encode("latin-1"))
    assert latin.body == b"caf\xe9" and latin.text == "café"
    assert Message("GET / HTTP/1.1", [], "é").body == "é".encode()  # str: UTF-8
    odd = Message("HTTP/1.1 200 OK", [("Content-Type", "text/plain; charset=nope")],
                  b"ok")
    assert odd.text == "ok"


def test_stored_form_keeps_text_readable_and_other_bytes_as_base64():
    text = Message("POST /t HTTP/1.1", [("A", "b")], "code=abc")
    assert text.to_json() == {"start_line": "POST /t HTTP/1.1", "headers": [["A", "b"]],
                              "body": "code=abc"}
    binary = Message("HTTP/1.1 200 OK", [], b"\x89PNG\xff")
    stored = binary.to_json()
    assert stored["body_encoding"] == "base64" and stored["body"] == "iVBOR/8="
    assert Message.from_json(stored) == binary
    exchange = Exchange(text, binary, url="http://h/t")
    assert Exchange.from_dict(exchange.to_dict()) == exchange


def test_exchanges_stored_before_bodies_were_bytes_still_read():
    old = {"request": {"start_line": "POST /t HTTP/1.1",
                       "headers": [["Content-Type", "application/json"]],
                       "body": '{"a": "é"}'},
           "response": None, "error": "refused", "note": None}
    exchange = Exchange.from_dict(old)
    assert exchange.request.body == '{"a": "é"}'.encode()
    assert exchange.request.fields()[-1] == ("json", "a", "é")
    assert exchange.error == "refused" and exchange.url == ""


def test_s256_is_rfc_7636_appendix_b():
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_basic_credentials_are_form_decoded():
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64."""
    value = "Basic " + base64.b64encode(b"app%3A1:se+cret%25").decode()
    assert basic_credentials(value) == ("app:1", "se cret%")
    assert basic_credentials("basic " + base64.b64encode(b"a:").decode()) == ("a", "")
    # Not Basic, not Base64 (a masked value), not UTF-8, or no colon: unreadable.
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("Basic abcd…wxyz") is None
    assert basic_credentials("Basic " + base64.b64encode(b"\xff:x").decode()) is None
    assert basic_credentials("Basic " + base64.b64encode(b"nocolon").decode()) is None


def test_content_type_media_type_and_charset():
    assert content_type('Application/JSON; Charset="ISO-8859-1"') == (
        "application/json", "ISO-8859-1")
    assert content_type("text/plain; charset=") == ("text/plain", None)
    assert content_type(None) == ("", None)
    message = Message("HTTP/1.1 200 OK",
                      [("Content-Type", "text/plain;charset=latin-1")],
                      "caf\xe9".encode("latin-1"))
    assert (message.media_type, message.charset, message.text) == (
        "text/plain", "latin-1", "caf\xe9")


def test_from_wsgi_keeps_the_target_as_sent_and_masks_the_cookie():
    environ = {"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1",
               "REQUEST_URI": "/cb?code=a%2Bb&state=x", "PATH_INFO": "/cb",
               "QUERY_STRING": "code=a%2Bb&state=x", "HTTP_HOST": "127.0.0.1:5000",
               "HTTP_COOKIE": "session=secret", "HTTP_SEC_FETCH_SITE": "cross-site",
               "CONTENT_TYPE": "", "wsgi.url_scheme": "http"}
    message = from_wsgi(environ)
    assert message.start_line == "GET /cb?code=a%2Bb&state=x HTTP/1.1"
    assert message.headers == [("Host", "127.0.0.1:5000"), ("Cookie", NOT_RECORDED),
                               ("Sec-Fetch-Site", "cross-site")]
    assert "secret" not in message.as_http()
    shown = from_wsgi({**environ, "REQUEST_URI": ""}, b"a=1", cookie="(none)",
                      shown=("cookie",))
    assert shown.start_line == "GET /cb?code=a%2Bb&state=x HTTP/1.1"
    assert (shown.headers, shown.body) == ([("Cookie", "(none)")], b"a=1")
