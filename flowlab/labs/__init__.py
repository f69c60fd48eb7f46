"""Attack labs (RFC 9700 §4): a classic attack run live, once against a vulnerable
configuration where it succeeds, once against the defence where it fails.

Pieces: ``catalogue`` reads each lab's TOML (``content/labs/README.md`` says how to
add one); ``client`` is the labs' own small OAuth client; ``issuer`` serves a lab's
vulnerable token endpoint under ``/sandbox/lab-<id>``; ``attacker`` is the third
party on 127.0.0.2; ``store`` keeps each run and its captured messages in the
database, so every process serves every lab; a lab may add one module of its own
actions, named after it (``csrf_state.py`` for ``csrf-state``).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from flask import Flask

from flowlab.core.services import Services
from flowlab.core.storage.db import transaction
from flowlab.core.storage.db import upsert
from flowlab.core.storage.sandbox_tables import clients
from flowlab.labs import catalogue
from flowlab.labs import issuer
from flowlab.labs import weak
from flowlab.labs import weak_issuer
from flowlab.labs.client import callback_path
from flowlab.labs.client import credentials
from flowlab.labs.client import weak_credentials
from flowlab.labs.page import ATTACKER_HOST
from flowlab.labs.progress import LabProgress
from flowlab.labs.store import RunStore
from flowlab.sandbox.public import DB
from flowlab.sandbox.public import Sandbox
from flowlab.sandbox.public import digest
from flowlab.sandbox.public import refresh_clients

# The labs' clients belong to no dashboard session, so no dashboard lists them.
OWNER = "labs"
LOOPBACKS = ("http://127.0.0.1", "http://[::1]")


@dataclass
class Labs:
    """What the lab views and the attacker share: the labs and their runs, and the
    switches of the weak server a learner builds."""

    catalogue: dict[str, catalogue.Lab]
    store: RunStore
    switches: weak.Switches

    def actions(self, lab_id: str) -> ModuleType:
        """The lab's own module (``csrf-state`` → ``flowlab.labs.csrf_state``)."""
        return importlib.import_module(f"{__name__}.{lab_id.replace('-', '_')}")

    def register_weak(self, lab: catalogue.Lab, configuration: str) -> None:
        """The lab client of one learner's weak server configuration (RFC 7591)."""
        app = self.store.app
        client_id, secret = weak_credentials(app.config, lab.id, configuration)
        values = {**_registration(app, lab, lab.variants[weak.YOURS]),
                  "client_id": client_id,
                  "secret_hash": None if lab.public else digest(secret)}
        with DB.connection(app) as conn, transaction(conn):
            upsert(conn, clients, values, ("client_id",), _changed)


def init_app(app: Flask, services: Services) -> None:
    """Register each lab's clients and issuers; the labs join the ``services``."""
    sandbox: Sandbox = app.extensions["sandbox"]  # flowlab.web.sandbox.init_app
    switches = weak.load(Path(app.config["CONTENT_DIR"]) / "weak-server.toml")
    labs = {lab.id: _issuer_paths(lab, sandbox) for lab in catalogue.load(
        Path(app.config["CONTENT_DIR"]) / "labs").values()}
    labs = {lab_id: catalogue.with_yours(lab, switches.texts["label"],
                                         switches.texts["api-label"])
            if lab_id in switches.labs() else lab for lab_id, lab in labs.items()}
    services.labs = Labs(labs, RunStore(app), switches)
    services.scoreboard.register(LabProgress(services.labs).source())
    with DB.connection(app) as conn:
        refresh_clients(conn, [  # the weak server's are registered per configuration
            _registration(app, lab, variant) for lab in labs.values()
            for variant in lab.variants.values() if variant.name != weak.YOURS])
    issuer.add_issuers(sandbox, labs, app.config)
    weak_issuer.add_issuer(sandbox, switches)


def _issuer_paths(lab: catalogue.Lab, sandbox: Sandbox) -> catalogue.Lab:
    """The lab with the path of each sandbox profile its variants use."""
    variants = {name: replace(v, issuer_path=sandbox.issuer_path(v.issuer))
                if v.issuer not in ("sandbox", "lab") else v
                for name, v in lab.variants.items()}
    return replace(lab, variants=variants)


def _registration(app: Flask, lab: catalogue.Lab, variant: catalogue.Variant) -> dict:
    """The lab client of one variant, labelled, with port-free loopback callbacks
    (RFC 8252 §7.3); refreshed at each start-up as the demo apps are."""
    client_id, secret = credentials(app.config, lab.id, variant.name)
    path = callback_path(lab.id, variant.name)
    # A lab whose redirect goes to "another app" registers the attacker's address.
    bases = (f"http://{ATTACKER_HOST}",) if lab.redirect_to == "attacker" else LOOPBACKS
    return dict(
        client_id=client_id, name=f"Lab: {lab.client_name} ({variant.label})",
        confidential=not lab.public, secret_salt=None,
        secret_hash=None if lab.public else digest(secret),
        response_types=" ".join(sorted({"code", variant.response_type})),
        grant_types=" ".join(("authorization_code", "refresh_token", *lab.grants)),
        redirect_uris="\n".join(base + path for base in bases), owner=OWNER,
        created_at=time.time())


def _changed(new) -> dict:
    return {name: new[name] for name in ("name", "confidential", "secret_hash",
                                         "redirect_uris", "grant_types",
                                         "response_types", "owner")}
