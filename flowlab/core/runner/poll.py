"""Steps that repeat until a condition: polling, as a device client polls the token
endpoint (RFC 8628 §3.4-§3.5).

A step with ``repeat_until`` (the outcome that ends it well) runs its action again
while the action reports the outcome ``pending`` (``authorization_pending``) or
``slow_down``. Tries are at least ``interval`` seconds apart (5 unless the step or
the action's answer says otherwise, RFC 8628 §3.2); ``slow_down`` adds 5 seconds to
the interval for this and every later try (§3.5). The step gives up after
``max_tries`` tries or ``deadline`` seconds from its first try. Every try's messages
are kept in one record, so the page shows the whole polling on the wire.

Each call of ``repeat`` tries until the answer is final or ``budget`` seconds have
passed, then leaves a record with status ``pending`` that the next call continues:
a page request never waits for the learner to approve on another device.
"""

from __future__ import annotations

import time

from flowlab.core.runner.records import StepRecord

REPEAT_ON = frozenset({"pending", "slow_down"})
INTERVAL = 5.0  # RFC 8628 §3.2: the default when the server names none
SLOW_DOWN = 5.0  # RFC 8628 §3.5: added to the interval on each slow_down
MAX_TRIES = 60
DEADLINE = 600.0


def index(records: list[StepRecord]) -> int:
    """The index of the step to run now: a pending record's step is not over."""
    return len(records) - 1 if records and records[-1].pending else len(records)


def tries(records: list[StepRecord]) -> int:
    """How many tries the step in progress has made (0 when none is repeating)."""
    return records[-1].poll["tries"] if records and records[-1].pending else 0


def drop_pending(records: list[StepRecord]) -> StepRecord | None:
    """Take the pending record off the end, to be replaced by the final one."""
    return records.pop() if records and records[-1].pending else None


def repeat(run, step: dict, attempt, *, clock=time.time, sleep=time.sleep,
           budget: float = 0.0) -> dict | None:
    """Try ``attempt`` until its outcome is final: return the final record (all the
    tries' exchanges in it), or None with the run's last record left pending."""
    began = clock()
    state = _state(run.steps, step, began)
    exchanges = list(run.steps[-1].exchanges) if tries(run.steps) else []
    while True:
        sleep(max(state["next_at"] - clock(), 0))
        record = attempt()
        exchanges += record.get("exchanges", [])
        state["tries"] += 1
        now = clock()
        if record.get("outcome") not in REPEAT_ON:
            return record | {"exchanges": exchanges, "data": {
                **record.get("data", {}), "tries": state["tries"]}}
        state["interval"] = float(record.get("interval") or state["interval"])
        if record["outcome"] == "slow_down":
            state["interval"] += SLOW_DOWN
        state["next_at"] = now + state["interval"]
        if (state["tries"] >= step.get("max_tries", MAX_TRIES)
                or state["next_at"] > state["first"] + step.get("deadline", DEADLINE)):
            return record | {"exchanges": exchanges, "error": "gave-up",
                             "data": {**record.get("data", {}),
                                      "tries": state["tries"]}}
        if state["next_at"] > began + budget:
            _keep_pending(run.steps, step, record, exchanges, state)
            return None


def _state(records: list[StepRecord], step: dict, now: float) -> dict:
    """The step's polling so far, or a fresh start."""
    if tries(records):
        return dict(records[-1].poll)
    interval = float(step.get("interval", INTERVAL))
    return {"tries": 0, "interval": interval, "first": now, "next_at": now}


def _keep_pending(records, step, record, exchanges, state) -> None:
    drop_pending(records)
    records.append(StepRecord.of(
        step["id"], "pending", record | {"exchanges": exchanges, "error": None},
        state["next_at"] - state["interval"], poll=dict(state)))
