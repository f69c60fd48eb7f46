"""The exchange model, its body views, and capture of real wire bytes."""

from __future__ import annotations

import requests

from flowlab.exchange import Exchange
from flowlab.exchange import Message
from flowlab.runner.capture import capture_session
from flowlab.runner.capture import exchange_of


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
    assert exchange.request.body == "grant_type=client_credentials"
    assert exchange.response.start_line.startswith(f"HTTP/1.1 {response.status_code} ")
    assert exchange.response.body == response.text
