"""The lab's tables, declared once; Alembic revisions create and change them.

Runs of the live runner and what hangs off them, the room, the labs' runs. The
sandbox's tables are in ``sandbox_tables`` on the same ``metadata``. Times are Unix
seconds as doubles. Change a table here and in a new revision together.
"""

from __future__ import annotations

from sqlalchemy import Boolean
from sqlalchemy import Column
from sqlalchemy import Double
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import false

metadata = MetaData()

# -- The lab (branch "lab") --------------------------------------------------------

# Runs of the live runner: steps, secrets and options as JSON text. A run belongs to
# the browser that started it and lasts a day.
runs = Table(
    "runs", metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("flow", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("options", Text, nullable=False, server_default="{}"),
    Column("secrets", Text, nullable=False),
    Column("steps", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    # The step a request is running now, and since when (a double click waits).
    Column("claimed", Integer, nullable=False, server_default="0"),
    Column("claimed_at", Double, nullable=False, server_default="0"),
    # Who claimed it (runner.holder): a claim whose process is gone is free at once.
    Column("claimed_by", Text, nullable=False, server_default=""),
    Column("created", Double, nullable=False),
    Column("expires", Double, nullable=False),
    Column("step", Text),  # the id of the latest step done, for the room's counts
    # A branch (runner.branch): the run it was made from, and from which step.
    Column("parent", Text),
    Column("parent_step", Integer),
    Index("runs_owner", "owner", "created"),
    Index("runs_parent", "parent"),
    Index("runs_expires", "expires"),
)

# When the presenter last cleared the room's counts: one row, id 1. The room counts
# only runs started since (flowlab/core/room.py); the runs themselves are not touched.
room = Table(
    "room", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cleared", Double, nullable=False),
    # Whether the room page shows the leaderboard (flowlab/core/scoreboard.py).
    Column("leaderboard", Boolean, nullable=False, server_default=false()),
)

# The nickname an attendee chose for the room's leaderboard, per browser id
# (flowlab/core/nicknames.py); a clear of the room keeps them.
nicknames = Table(
    "nicknames", metadata,
    Column("browser", Text, primary_key=True),
    Column("nickname", Text, nullable=False),
    Column("updated_at", Double, nullable=False),
)

# Read-only links to a run (flowlab/core/runner/shares.py): the link's token only as
# a SHA-256 digest, the run it opens, and when its owner revoked it (NULL: live).
shares = Table(
    "shares", metadata,
    Column("token_hash", Text, primary_key=True),
    Column("run_id", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("revoked_at", Double),
    Index("shares_run", "run_id"),
)

# Each browser's provider choice, shared by every process: the profile as JSON (not
# secret) and the client secret sealed (flowlab.core.secrets: nonce + AES-GCM ciphertext
# under a key only the browser's cookie holds). Idle an hour: deleted.
choices = Table(
    "choices", metadata,
    Column("browser", Text, primary_key=True),
    Column("provider", Text, nullable=False),
    Column("secret", LargeBinary),  # NULL for a public client
    Column("touched", Double, nullable=False),
    Index("choices_touched", "touched"),
)

# A real provider's run secrets (state, verifier, code, tokens), sealed as JSON for
# the browser that owns the run. Idle an hour: deleted.
run_secrets = Table(
    "run_secrets", metadata,
    Column("run", Text, primary_key=True),
    Column("browser", Text, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("touched", Double, nullable=False),
    Index("run_secrets_browser", "browser"),
    Index("run_secrets_touched", "touched"),
)

# Runs of the attack labs (flowlab/labs/store.py), shared by every process: the
# lab client's and the attacker's fields and the captured messages as JSON, only the
# labs' own throwaway demo values (that module says why they may be stored whole).
lab_runs = Table(
    "lab_runs", metadata,
    Column("id", Text, primary_key=True),
    Column("lab", Text, nullable=False),
    Column("variant", Text, nullable=False),
    Column("browser", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("backchannel", Text, nullable=False),
    Column("redirect_base", Text, nullable=False),
    Column("state", Text),  # the state the lab client waits for, if any
    Column("client", Text, nullable=False),
    Column("attacker", Text, nullable=False),
    Column("trace", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("created", Double, nullable=False),
    Index("lab_runs_state", "lab", "state"),
    Index("lab_runs_browser", "browser", "lab", "variant"),
    Index("lab_runs_created", "created"),
)

# The API console's calls (flowlab/core/console/history.py): the call and its
# captured exchange as JSON, token masked, sealed for the browser that owns the run
# (flowlab.core.secrets). They go with the run's lifetime.
console_calls = Table(
    "console_calls", metadata,
    Column("id", Text, primary_key=True),
    Column("run", Text, nullable=False),
    Column("browser", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("expires", Double, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Index("console_calls_run", "run", "created"),
    Index("console_calls_expires", "expires"),
)

# What the wire showed in each lab run, kept for the room's scoreboard after the
# run itself is gone (flowlab/labs/progress.py): when it started, its verdict
# ("succeeded", "failed") and since when. No message, no secret.
lab_progress = Table(
    "lab_progress", metadata,
    Column("run", Text, primary_key=True),
    Column("browser", Text, nullable=False),
    Column("lab", Text, nullable=False),
    Column("variant", Text, nullable=False),
    Column("started", Double, nullable=False),
    Column("verdict", Text),
    Column("decided", Double),
    Index("lab_progress_started", "started"),
)

# The weak servers learners build (flowlab/labs/weak.py): one row per save, never
# changed, so a lab run keeps the switches it started with; a browser's latest row is
# its configuration. ``switches`` is a JSON list of switch ids. No secret.
weak_servers = Table(
    "weak_servers", metadata,
    Column("id", Text, primary_key=True),
    Column("browser", Text, nullable=False),
    Column("switches", Text, nullable=False),
    Column("created", Double, nullable=False),
    Index("weak_servers_browser", "browser", "created"),
)

# Exercises graded from the wire (flowlab/exercises/): one attempt per learner and
# exercise, each with a sandbox app of its own (client_id), kept a day. ``browser``
# is the browser that started it from a page (NULL from the JSON API); ``address``
# a digest of the client address, for the hourly bound.
exercise_attempts = Table(
    "exercise_attempts", metadata,
    Column("id", Text, primary_key=True),
    Column("exercise", Text, nullable=False),
    Column("client_id", Text, nullable=False, unique=True),
    Column("browser", Text),
    Column("address", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("expires", Double, nullable=False),
    Column("solved", Double),  # when it was first graded solved
    Index("exercise_attempts_address", "address", "created"),
    Index("exercise_attempts_browser", "browser"),
    Index("exercise_attempts_expires", "expires"),
)

# What the sandbox received for an attempt's app, in order: the request as received
# with every secret (code, verifier, token, client secret) kept as a digest only,
# and the fields of the answer the checks read, as JSON.
exercise_traffic = Table(
    "exercise_traffic", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt", Text,
           ForeignKey("exercise_attempts.id", ondelete="CASCADE"), nullable=False),
    Column("at", Double, nullable=False),
    Column("kind", Text, nullable=False),  # authorize, token, device, api
    Column("status", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Index("exercise_traffic_attempt", "attempt", "id"),
    sqlite_autoincrement=True,
)
