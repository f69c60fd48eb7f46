"""What every export shares: redaction rules, timestamps, the run's steps."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flowlab.core.http import Exchange
from flowlab.core.publicurl import Addresses
from flowlab.core.publicurl import addresses
from flowlab.core.redact import Redactor
from flowlab.core.runner.records import StepRecord

CREATOR = {"name": "OAuth Flow Lab", "version": "0.1.0"}
# Headers a replay leaves to the client: it sets them itself, or they describe the
# captured connection and body rather than the request.
CLIENT_HEADERS = {"host", "content-length", "connection", "accept-encoding",
                  "user-agent"}
FORM = "application/x-www-form-urlencoded"


def secure(run, redact: Redactor) -> Redactor:
    """The redactor for exports: it may reveal only on the sandbox."""
    return Redactor(set(redact.originals),
                    redact.reveal and run.provider.is_sandbox)


def published(run, where: Addresses | None) -> tuple:
    """The run naming only the public address, and the note that says why (empty
    when no request went to the private back-channel port)."""
    where = where or addresses(run)
    if not where.used_by(run):
        return run, ""
    note = (f"The lab's server sent its own requests to a private listener on its "
            f"loopback interface, on a port picked at random at each start so that "
            f"they never wait behind the pages it serves. That port answers only on "
            f"the lab's machine until it restarts, so this export names the public "
            f"address, {where.public}, which serves the same endpoints.")
    return where.run(run), note


def _iso(timestamp: float) -> str:
    """ISO 8601 in UTC with milliseconds, as HAR wants it."""
    moment = datetime.fromtimestamp(timestamp or 0, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _steps(run, flow):
    """``(number, step definition, step record)`` for each step the run recorded."""
    return [(n, step, record) for n, (step, record)
            in enumerate(zip(flow.steps, run.steps, strict=False), 1)]


def _exchanges(record: StepRecord) -> list[Exchange]:
    return [Exchange.from_dict(e) for e in record.exchanges]


def _heading(run, flow) -> str:
    return f"{flow.name} on {run.provider.name or 'a provider'}, run {run.id}"
