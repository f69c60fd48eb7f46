"""``bench/run.py --postgres``: a throwaway PostgreSQL 15 from tests/pg_harness.py.

The harness starts ``initdb`` + ``pg_ctl`` on a free 127.0.0.1 port with fsync off
(its data is thrown away), so its figures flatter PostgreSQL's writes a little.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def throwaway_database(folder: str):
    """Yield the URL of a fresh PostgreSQL server, then stop and delete it."""
    try:
        from tests import pg_harness
    except ImportError:
        raise SystemExit("--postgres needs tests/pg_harness.py; pass "
                         "--database-url postgresql://... instead") from None
    try:
        server = pg_harness.start()
    except BaseException as exc:  # the harness skips or fails the way pytest does
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise SystemExit(f"no PostgreSQL for the bench: {exc}") from None
    try:
        yield server.url
    finally:
        pg_harness.stop(server)
