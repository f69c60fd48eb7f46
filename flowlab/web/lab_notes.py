"""Speaker notes for the attack labs, on the presenter view only (never on the lab
page the room sees): shown there when this browser's latest run is a lab run."""

from __future__ import annotations

from flask import render_template

from flowlab.core.content import render_markdown
from flowlab.labs.store import Run
from flowlab.web.session import browser_id
from flowlab.web.session import services


def latest(flow_run) -> Run | None:
    """This browser's latest lab run, if it started after ``flow_run`` (or there is
    no flow run): the presenter is presenting that lab now."""
    browser = browser_id()
    labs = services().labs
    run = labs.store.latest(browser) if labs and browser else None
    if run is None or (flow_run is not None and flow_run.created > run.created):
        return None
    return run


def where(run: Run) -> dict:
    """What the presenter view follows: this run, and how many messages it has."""
    return {"run": f"lab:{run.id}", "done": len(run.trace)}


def page(run: Run) -> str:
    """The lab's notes, step by step, and the verdict the lab page shows now."""
    labs = services().labs
    lab = labs.catalogue[run.lab]
    verdict = labs.actions(run.lab).succeeded(run)
    outcome = "undecided" if verdict is None else "succeeded" if verdict else "failed"
    return render_template(
        "presenter/lab.html", run=run, lab=lab, variant=lab.variants[run.variant],
        outcome=outcome, md=render_markdown, follow=where(run))
