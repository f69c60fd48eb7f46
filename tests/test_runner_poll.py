"""Steps that repeat until a condition (RFC 8628 §3.4-§3.5), with a fake action.

A fake clock and sleep stand in for time; the fake action answers from a script, as
a token endpoint polled by a device client would.
"""

from __future__ import annotations

import pytest

from flowlab.core.runner import engine
from flowlab.core.runner.flows import Flow
from flowlab.core.runner.registry import ACTIONS
from flowlab.core.runner.registry import Action
from flowlab.core.runner.registry import register
from flowlab.core.runner.store import Run


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.tries: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_poll():
    """Register a polling action whose answers come from ``script``."""
    script: list[str] = []
    clock = Clock()

    def attempt(run, flow, step, ctx) -> dict:
        clock.tries.append(clock.now)
        outcome = script.pop(0)
        exchange = {"request": {"start_line": f"POST /token#{len(clock.tries)}",
                                "headers": [], "body": ""}, "response": None}
        record = {"outcome": outcome, "exchanges": [exchange],
                  "status_code": 400 if outcome in ("pending", "slow_down") else 200}
        return record | ({"error": "expired_token"} if outcome == "expired" else {})

    register(Action("fake_poll", "poll", attempt))
    yield script, clock
    ACTIONS.pop("fake_poll")


def _flow(**repeat) -> Flow:
    step = {"id": "poll", "action": "fake_poll", "repeat_until": "granted", **repeat}
    return Flow("f", "F", "public", "s", (step, {"id": "after", "action": "consent"}))


def _advance(run, flow, clock, budget=0.0) -> None:
    engine.advance(run, flow, None, clock=clock, sleep=clock.sleep, budget=budget)


def test_repeats_while_pending_then_records_one_step(fake_poll):
    script, clock = fake_poll
    script += ["pending", "pending", "granted"]
    run, flow = Run("r", "o", "f", {}), _flow(interval=5)
    _advance(run, flow, clock, budget=60)
    assert clock.tries == [1000.0, 1005.0, 1010.0]  # 5 s apart, never sooner
    (record,) = run.steps
    assert record.status == "done" and record.data["tries"] == 3
    assert len(record.exchanges) == 3  # every poll is on the wire
    assert engine.pending(run, flow)["id"] == "after"


def test_slow_down_adds_five_seconds_to_every_later_interval(fake_poll):
    script, clock = fake_poll
    script += ["pending", "slow_down", "pending", "granted"]
    run, flow = Run("r", "o", "f", {}), _flow(interval=2)
    _advance(run, flow, clock, budget=60)
    gaps = [b - a for a, b in zip(clock.tries, clock.tries[1:], strict=False)]
    assert gaps == [2.0, 7.0, 7.0]


def test_each_next_continues_a_pending_step_no_sooner_than_the_interval(fake_poll):
    script, clock = fake_poll
    script += ["pending", "pending", "granted"]
    run, flow = Run("r", "o", "f", {}), _flow(interval=5)
    _advance(run, flow, clock)  # budget 0: one try, then the page comes back
    assert run.steps[-1].status == "pending"
    assert engine.pending(run, flow)["id"] == "poll"  # the same step again
    clock.now += 1  # the learner clicks Next after one second
    _advance(run, flow, clock)
    assert clock.tries == [1000.0, 1005.0]  # it waited out the interval
    _advance(run, flow, clock)
    assert [r.status for r in run.steps] == ["done"]
    assert len(run.steps[0].exchanges) == 3


@pytest.mark.parametrize(("bounds", "tries"), [
    ({"max_tries": 3}, 3),
    ({"deadline": 12}, 3),  # tries at 0, 5, 10; the next would be at 15
])
def test_gives_up_after_max_tries_or_deadline(fake_poll, bounds, tries):
    script, clock = fake_poll
    script += ["pending"] * 10
    run, flow = Run("r", "o", "f", {}), _flow(interval=5, **bounds)
    _advance(run, flow, clock, budget=600)
    (record,) = run.steps
    assert record.status == "failed" and record.error == "gave-up"
    assert len(clock.tries) == tries and run.status == "stopped"


def test_an_error_answer_ends_the_repeat(fake_poll):
    script, clock = fake_poll
    script += ["pending", "expired", "pending"]
    run, flow = Run("r", "o", "f", {}), _flow(interval=1)
    _advance(run, flow, clock, budget=60)
    assert run.steps[0].status == "failed"
    assert run.steps[0].error == "expired_token" and script == ["pending"]
