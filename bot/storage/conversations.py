"""Rasa's conversation log (the tracker store's `events` table), read and pruned without importing Rasa.

Rasa's SQL tracker store writes one row per event: ``sender_id`` (the customer's id on their channel),
``type_name`` (``user``, ``bot``, ``action``, ``session_started``, ...), ``timestamp`` (Unix seconds),
``intent_name`` and ``action_name``, and the whole event as JSON in ``data`` (a user event's
``parse_data`` holds the intent confidence, its ``input_channel`` the channel). The service figures
read it; the personal-data work removes a customer's rows. The table belongs to Rasa: we never create
or alter it, only add an index for time ranges when it is missing.
"""

from __future__ import annotations

import logging
import os
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.storage.database import create_engine

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


class ConversationLog:
    """The events table behind TRACKER_STORE_URL (may be the ticket database or another one)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        self._indexed = False

    @classmethod
    def from_env(cls) -> Optional["ConversationLog"]:
        url = os.environ.get("TRACKER_STORE_URL")
        return cls(url) if url else None

    def exists(self) -> bool:
        """False until Rasa has stored its first conversation."""
        exists = sa.inspect(self.engine).has_table("events")
        if exists and not self._indexed:
            self._ensure_index()
        return exists

    def _ensure_index(self) -> None:
        # Figures and retention select by time; Rasa only indexes sender_id.
        try:
            with self.engine.begin() as connection:
                connection.exec_driver_sql(
                    "CREATE INDEX IF NOT EXISTS ix_events_type_timestamp ON events (type_name, timestamp)"
                )
            self._indexed = True
        except sa.exc.SQLAlchemyError as error:  # read-only user, another process racing: not fatal
            logger.warning("could not index the conversation log: %s", error.__class__.__name__)

    def dispose(self) -> None:
        self.engine.dispose()
