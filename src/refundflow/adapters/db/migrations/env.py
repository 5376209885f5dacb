"""Alembic environment: runs migrations on the connection refundflow hands it."""

from __future__ import annotations

from alembic import context

from refundflow.adapters.db.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # pragma: no cover - refundflow always passes its connection
    raise RuntimeError("run migrations with 'refundflow migrate'")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
