"""Runner pieces as plain functions: redaction, glossary lookup, redirect checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flowlab.core.http import Message
from flowlab.core.provider import Provider
from flowlab.core.redact import Redactor
from flowlab.core.runner import engine
from flowlab.core.runner.answers import json_path
from flowlab.core.runner.flows import Flow
from flowlab.core.runner.present import lookup
from flowlab.core.runner.records import StepRecord
from flowlab.core.runner.store import Run

GLOSSARY = {"Content-Type": {"meaning": "type"}, "status": {"meaning": "s"},
            "error.status": {"meaning": "error status"}, "code": {"meaning": "c"}}


def test_redactor_masks_every_secret_unless_revealing():
    run = Run("r", "o", "f", {}, secrets={"token": {"access_token": "A" * 40},
                                          "code": "codecodecode1"})
    redact = Redactor.for_run(run, set(), reveal=False)
    text = redact("Bearer " + "A" * 40 + " and codecodecode1")
    assert "A" * 40 not in text and "codecodecode1" not in text
    assert "AAAA…AAAA" in text
    assert Redactor.for_run(run, set(), reveal=True)("x" + "A" * 40).endswith("A" * 40)


def test_redactor_finds_secrets_in_captured_headers_and_bodies():
    request = Message("POST /t HTTP/1.1", [("Authorization", "Basic c2VjcmV0LWNyZWRz"),
                                           ("Cookie", "session=cookievalue123")])
    run = Run("r", "o", "f", {}, steps=[StepRecord(exchanges=(
        {"request": request.to_json(), "response": None},))])
    redact = Redactor.for_run(run, set(), reveal=False)
    assert "c2VjcmV0LWNyZWRz" not in redact(request.as_http())
    assert "cookievalue123" not in redact(request.as_http())


@pytest.mark.parametrize(("where", "name", "meaning"), [
    ("header", "content-type", "type"),
    ("json", "error.status", "error status"),
    ("json", "items[].status", "s"),
    ("form", "code", "c"),
    ("form", "nothing", None),
])
def test_lookup(where, name, meaning):
    term = lookup(GLOSSARY, where, name)
    assert (term or {}).get("meaning") == meaning


def test_json_path():
    data = {"artists": {"items": [{"id": "x1"}]}}
    assert json_path(data, "artists.items[0].id") == "x1"
    assert json_path(data, "artists.items[3].id") is None


FLOW = Flow("authorization-code", "Authorization code", "confidential", "s", (
    {"id": "authorization-url", "action": "authorize"},
    {"id": "consent", "action": "consent"},
    {"id": "callback", "action": "callback"},
    {"id": "token", "action": "exchange_code", "expect": 200},
))
ISSUER = "http://127.0.0.1:5000/sandbox"


def _waiting_run():
    run = Run("r", "o", FLOW.id, Provider(issuer=ISSUER, iss_supported=True),
              secrets={"state": "s" * 30})
    run.steps.append(StepRecord(id="authorization-url", status="done"))
    return run


@pytest.mark.parametrize(("params", "error"), [
    ({"code": "c", "state": "s" * 30, "iss": ISSUER}, None),
    ({"code": "c", "state": "t" * 30, "iss": ISSUER}, "state-mismatch"),
    ({"code": "c", "iss": ISSUER}, "state-mismatch"),
    ({"code": "c", "state": "s" * 30}, "iss-mismatch"),
    ({"code": "c", "state": "s" * 30, "iss": "http://evil/sandbox"}, "iss-mismatch"),
    ({"error": "access_denied", "state": "s" * 30, "iss": ISSUER}, "denied"),
    ({"state": "s" * 30, "iss": ISSUER}, "no-result"),
    ([("code", "c"), ("code", "d"), ("state", "s" * 30), ("iss", ISSUER)],
     "duplicate-parameters"),
])
def test_redirect_checks(params, error):
    run = _waiting_run()
    pairs = params if isinstance(params, list) else list(params.items())
    engine.receive_redirect(run, FLOW, Message("GET /run/callback HTTP/1.1"), pairs)
    assert [s.id for s in run.steps] == ["authorization-url", "consent", "callback"]
    assert run.steps[-1].error == error
    assert run.status == ("active" if error is None else "stopped")
    assert "state" not in run.secrets  # used once, then forgotten
    assert run.secrets.get("code") == ("c" if error is None else None)


def test_iss_is_compared_whenever_it_comes_back():
    run = _waiting_run()
    # Not announced, but sent: still checked.
    run.provider = replace(run.provider, iss_supported=False)
    pairs = [("code", "c"), ("state", "s" * 30), ("iss", "http://evil/sandbox")]
    engine.receive_redirect(run, FLOW, Message("GET /run/callback HTTP/1.1"), pairs)
    assert run.steps[-1].error == "iss-mismatch"


def test_a_claimed_step_cannot_be_claimed_again(app):
    from flowlab.core.runner import claims
    from flowlab.core.runner import store

    with app.app_context():
        run = store.create("owner", "client-credentials", Provider(kind="sandbox"))
        first = store.load(run.id, "owner")
        second = store.load(run.id, "owner")
        assert claims.claim(first)
        assert not claims.claim(second)  # loaded before the claim
        late = store.load(run.id, "owner")  # loaded after it, before the save
        assert not claims.claim(late)
        first.steps.append(StepRecord(id="token", status="done"))
        assert store.save(first)
        after = store.load(run.id, "owner")
        assert claims.claim(after)  # the next step is free to run
        stale = store.load(run.id, "owner")
        assert claims.claim(stale, stale_after=-1)  # a claim whose request died


@pytest.mark.parametrize(("provider", "params", "outcome"), [
    ({"issuer": ISSUER, "iss_supported": True}, {"iss": ISSUER}, "iss-checked"),
    ({"issuer": ISSUER}, {}, "no-iss"),  # Spotify: no iss, nothing to check
])
def test_the_callback_records_what_it_did_with_iss(provider, params, outcome):
    run = _waiting_run()
    run.provider = Provider(**provider)
    pairs = [("code", "c"), ("state", "s" * 30), *params.items()]
    engine.receive_redirect(run, FLOW, Message("GET /run/callback HTTP/1.1"), pairs)
    assert run.steps[-1].error is None
    assert run.steps[-1].outcome == outcome


def test_an_iss_from_a_provider_with_no_known_issuer_is_a_mismatch():
    """RFC 9207 §2.4, RFC 9700 §4.4.2.1: an iss nobody expected means another
    server answered (a mix-up); it is not waved through unchecked."""
    run = _waiting_run()
    run.provider = Provider(kind="discovered", issuer=None, iss_supported=False)
    pairs = [("code", "c"), ("state", "s" * 30), ("iss", ISSUER)]
    engine.receive_redirect(run, FLOW, Message("GET /run/callback HTTP/1.1"), pairs)
    assert run.steps[-1].error == "iss-mismatch"
    assert run.status == "stopped" and "code" not in run.secrets


def test_explained_picks_the_text_for_the_recorded_outcome():
    flow = Flow("f", "F", "public", "s", (
        {"id": "a", "explain": "plain", "explain_when": {"x": "told x"}},
        {"id": "b", "explain": "plain b", "explain_when": {"x": "b x"}},
        {"id": "c", "explain": "plain c"},
    ))
    told = flow.explained([StepRecord(outcome=o) for o in ("x", "y", "x")])
    assert [s["explain"] for s in told.steps] == ["told x", "plain b", "plain c"]
    assert [s["explain"] for s in flow.explained([]).steps] == [
        "plain", "plain b", "plain c"]


def test_only_a_flow_that_offers_it_runs_without_pkce():
    from flowlab.core.runner.flows import options_from

    optional = Flow("f", "F", "confidential", "s", (), pkce=True, pkce_optional=True)
    fixed = Flow("g", "G", "public", "s", (), pkce=True)
    anywhere = Provider(kind="sandbox")
    assert options_from(optional, {"pkce": "off"}, anywhere) == {"pkce": False}
    assert options_from(optional, {}, anywhere) == {}
    assert options_from(fixed, {"pkce": "off"}, anywhere) == {}
    assert optional.with_options({"pkce": False}).pkce is False
    assert fixed.with_options({"pkce": False}).pkce is True


@pytest.mark.parametrize(("methods", "options"), [
    (None, {}),  # the metadata says nothing: try PKCE, as RFC 9700 §2.1.1 asks
    (["S256"], {}),
    (["plain", "S256"], {}),
    (["plain"], {"pkce": False}),  # S256 not offered: no PKCE, and the page says why
    ([], {"pkce": False}),
])
def test_the_code_flow_goes_without_pkce_only_where_s256_is_missing(methods, options):
    from flowlab.core.runner.flows import options_from

    optional = Flow("f", "F", "confidential", "s", (), pkce=True, pkce_optional=True)
    provider = Provider(kind="discovered", pkce_methods=methods)
    assert options_from(optional, {}, provider) == options


def test_step_texts_link_only_glossary_concepts_that_exist(app):
    """Every ``/glossary#concept-x`` in flow and runner texts names a concept."""
    import re
    from pathlib import Path

    glossary = app.extensions["flowlab"].content.data("glossary")
    concepts = {k for k, v in glossary.items()
                if isinstance(v, dict) and v.get("kind") == "concept"}
    folder = Path(app.config["CONTENT_DIR"])
    texts = [p.read_text() for p in (folder / "flows").glob("*.toml")]
    texts.append((folder / "runner.toml").read_text())
    linked = {key for text in texts
              for key in re.findall(r"/glossary#concept-([a-z-]+)\)", text)}
    assert linked, "step texts link the glossary"
    assert linked <= concepts, linked - concepts
