"""Alembic's environment: migrate on the connection ``upgrade`` passes in."""

from __future__ import annotations

from alembic import context

from flowlab.core.storage import sandbox_tables  # noqa: F401 (its tables, on metadata)
from flowlab.core.storage.tables import metadata

context.configure(connection=context.config.attributes["connection"],
                  target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
