"""What the lab is made of, built once from the app's config: its content (prose and
data), its live runner (flows, settings), and the attack labs. Flask-free: the web
side reaches it through ``flowlab.web.session.services``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from flowlab.core.content import Content
from flowlab.core.runner.flows import load_flows
from flowlab.core.runner.orchestrate import Runner
from flowlab.core.runner.settings import RunSettings
from flowlab.core.scoreboard import Scoreboard


@dataclass
class Services:
    """The lab's parts that pages and background work share."""

    content: Content
    runner: Runner
    # Servers run next to the app (the attack labs' attacker): each has
    # ``share(app)``, called before a fork, and ``start(app)`` (``flowlab.serving``).
    alongside: tuple = ()
    # The attack labs and their runs (``flowlab.labs.Labs``), added by
    # ``flowlab.labs.init_app`` once the sandbox can serve their issuers.
    labs: object | None = None
    # Where the room's scoreboard reads attendees' progress: one source per kind
    # of item, registered at start-up (the labs' in ``flowlab.labs.init_app``).
    scoreboard: Scoreboard = field(default_factory=Scoreboard)
    # The exercises graded from the wire (``flowlab.exercises``) by id, loaded by
    # ``flowlab.web.exercises.init_app``, which registers them on the scoreboard.
    exercises: dict = field(default_factory=dict)

    @classmethod
    def build(cls, config: Mapping, alongside: tuple = ()) -> Services:
        """Load the content and the flows; the runner keeps ``config`` to find the
        sandbox at each run (the back channel's address is set once serving)."""
        content = Content(config["CONTENT_DIR"])
        runner = Runner(load_flows(content), RunSettings.from_config(config), config)
        return cls(content, runner, alongside)
