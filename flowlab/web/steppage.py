"""The step page's template, filled in: the messages redacted and explained, the
sequence diagram, what the learner may do next (``runner.step_page`` keeps it)."""

from __future__ import annotations

from dataclasses import replace

from flask import get_template_attribute
from flask import render_template

from flowlab.core.content import render_markdown
from flowlab.core.runner import branch
from flowlab.core.runner import engine
from flowlab.core.runner import orchestrate
from flowlab.core.runner import registry
from flowlab.core.runner import tokenlife
from flowlab.core.runner.present import diagram
from flowlab.core.runner.present import kept_step_parts
from flowlab.core.runner.present import sequence_html
from flowlab.web.session import get_content


def render(run, flow, viewing: int, ctx: engine.Context, reveal: bool,
           shared: str | None, ready_in: int, shown: dict) -> str:
    """The step page of ``run`` at step ``viewing``, as the view worked it out
    (``shown``: pending, spent, branches, addresses, origin)."""
    read_only = bool(shared or shown["origin"])
    redact = orchestrate.redactor(run, ctx, reveal)
    if shared:
        run = replace(run, secrets={})  # the page cannot show what it does not hold
    glossary = get_content().data("glossary")
    record = run.steps[viewing] if run.steps else None
    steps = diagram(flow, run, viewing if run.steps else -1)
    label = f"Sequence diagram of the {flow.name} flow"
    return render_template(
        "runner/step.html", run=run, flow=flow, viewing=viewing, record=record,
        parts=kept_step_parts(run, viewing, glossary, redact,
                              registry.received_in(flow), shown["where"]),
        redact=redact, reveal=redact.reveal, md=render_markdown,
        pending=shown["pending"], spent=shown["spent"], ready_in=ready_in,
        texts=get_content().data("runner"), read_only=read_only, shared=shared,
        origin=shown["origin"],
        editable=not read_only and bool(record and branch.sent(run, viewing + 1)),
        branches=shown["branches"],
        wrap_up=not read_only and tokenlife.offered(run, flow),
        diagram=steps, diagram_html=sequence_html(
            steps, label, get_template_attribute("_sequence.html", "sequence")),
    )
