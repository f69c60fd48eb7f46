"""Provider profiles as values: one stored form, and profiles stored before it."""

from __future__ import annotations

import json
import time
from dataclasses import FrozenInstanceError
from dataclasses import replace

import pytest
from sqlalchemy import insert

from flowlab.core import providers
from flowlab.core import vault
from flowlab.core.provider import Provider
from flowlab.core.runner import store
from flowlab.core.storage.db import LAB
from flowlab.core.storage.tables import runs

# A sandbox profile as the runs table held it before profiles were dataclasses,
# with a key this version does not know.
OLD = {"kind": "sandbox", "name": "Sandbox provider", "issuer": "http://h/sandbox",
       "iss_supported": True, "authorize_url": "http://h/sandbox/authorize",
       "token_url": "http://h/sandbox/api/token", "api_base": "http://h/sandbox",
       "grant_types": ["authorization_code", "implicit"],
       "clients": {"confidential": "c", "public": "p"}, "future_key": [1, 2]}


def test_an_old_stored_profile_loads_and_keeps_what_it_does_not_know():
    provider = Provider.from_json(OLD)
    assert provider.is_sandbox and provider.token_url.endswith("/api/token")
    assert provider.grant_types == ("authorization_code", "implicit")
    assert provider.pkce_methods is None and provider.sandbox_path is None
    assert provider.extra == {"future_key": [1, 2]}
    stored = provider.to_json()
    assert stored["future_key"] == [1, 2] and stored["grant_types"] == [
        "authorization_code", "implicit"]
    assert Provider.from_json(json.loads(json.dumps(stored))) == provider


def test_a_profile_is_frozen_and_changes_by_replace():
    provider = Provider.from_json(OLD)
    with pytest.raises(FrozenInstanceError):
        provider.name = "x"  # type: ignore[misc]
    assert replace(provider, name="x").name == "x" and provider.name != "x"


def test_listing_nothing_is_not_listing_everything():
    """RFC 8414 §2: an absent list takes the defaults, an empty one lists none."""
    absent, empty = Provider(), Provider(response_types=())
    assert Provider.from_json(absent.to_json()).response_types is None
    assert Provider.from_json(empty.to_json()).response_types == ()


def test_a_run_stored_before_keeps_running_with_its_profile(app):
    """Runs live a day: one written by the previous version still loads."""
    with app.app_context():
        now = time.time()
        LAB.get().execute(insert(runs).values(
            id="old-run", owner="b", flow="authorization-code",
            provider=json.dumps(OLD), options="{}", secrets="{}", steps="[]",
            status="active", created=now, expires=now + 60))
        run = store.load("old-run", "b")
        assert run.provider == Provider.from_json(OLD) and run.on_disk_whole
        here = providers.here(run.provider, app.config)
        assert here.sandbox_path is None and here.issuer == OLD["issuer"]


def test_a_browser_choice_round_trips_through_the_vault(app):
    with app.app_context():
        spotify = providers.spotify(
            {"name": "Spotify", "accounts": "https://a.example", "api": "https://b",
             "authorize_path": "/authorize", "token_path": "/api/token",
             "refused": {"implicit": "gone"}}, app.config, "id-1")
        vault.put_choice("browser-x", spotify, None)
        assert vault.get_choice("browser-x") == (spotify, None)
