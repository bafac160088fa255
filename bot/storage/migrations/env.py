"""Alembic environment: runs on the connection handed over by `Database.migrate()`."""

from alembic import context

from bot.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via Database.migrate()
    raise RuntimeError("run migrations through bot.storage.database.Database.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
