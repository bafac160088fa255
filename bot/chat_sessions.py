"""Web chat conversation ids: issued by the server, ended by the customer, forgotten when idle.

Why: on the web chat the conversation id is the customer's whole identity. Whoever presents it
continues the conversation, reads what agents wrote, sees the customer's tickets and can ask for
their personal data (review finding M8). So a page may only present an id this server issued, that
the customer has not ended (新对话 ends the old one) and that was used within the idle expiry;
anything else gets a fresh id. The ids are 128 random bits (uuid4) and never appear in logs (they
are logged as `bot.logs.conversation_ref`) or in what backends receive (`backend_customer_id`).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from typing import Callable, Optional

from bot.clock import utcnow
from bot.customers import backend_customer_id  # noqa: F401  (moved; importers keep this path)
from bot.errors import Conflict
from bot.storage.database import Database
from bot.storage.models import ChatSessionRow

DEFAULT_IDLE_DAYS = 30
# last_seen_at is written at most this often per conversation (not on every message).
TOUCH_EVERY = timedelta(minutes=5)


def idle_expiry() -> timedelta:
    """WEBCHAT_IDLE_DAYS: a conversation unused this long cannot be resumed (a customer waiting for a
    ticket's outcome gets its progress messages long before)."""
    return timedelta(days=float(os.environ.get("WEBCHAT_IDLE_DAYS") or DEFAULT_IDLE_DAYS))


class ChatSessions:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow, idle: Optional[timedelta] = None) -> None:
        self.db = db
        self.clock = clock
        self.idle = idle if idle is not None else idle_expiry()

    def issue(self) -> str:
        now = self.clock()
        session_id = uuid.uuid4().hex
        with self.db.transaction() as session:
            session.add(ChatSessionRow(session_id=session_id, issued_at=now, last_seen_at=now))
        return session_id

    def resume(self, session_id: Optional[str]) -> bool:
        """True when `session_id` was issued here, is not ended and not idle too long (and it counts
        as used now)."""
        if not session_id:
            return False
        now = self.clock()
        with self.db.transaction() as session:
            row = session.get(ChatSessionRow, session_id)
            if row is None or row.ended_at is not None or now - row.last_seen_at > self.idle:
                return False
            if now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
        return True

    def end(self, session_id: Optional[str]) -> None:
        """The customer started a new conversation: the old id is no longer accepted anywhere."""
        if not session_id:
            return
        with self.db.transaction() as session:
            row = session.get(ChatSessionRow, session_id)
            if row is not None and row.ended_at is None:
                row.ended_at = self.clock()

    def start(self, requested: Optional[str]) -> "tuple[str, bool]":
        """The id a page continues with: the one it asked for when that may be resumed, else a new
        one. Returns (id, resumed)."""
        if self.resume(requested):
            return requested, True  # type: ignore[return-value]
        for _ in range(3):
            try:
                return self.issue(), False
            except Conflict:  # 128 random bits collided: draw again
                continue
        raise Conflict("could not issue a chat session id")

    def prune(self) -> int:
        """Forget ids that can no longer be resumed (ended or idle past the expiry)."""
        cutoff = self.clock() - self.idle
        with self.db.transaction() as session:
            query = session.query(ChatSessionRow).filter(
                (ChatSessionRow.last_seen_at < cutoff) | (ChatSessionRow.ended_at < cutoff)
            )
            return query.delete(synchronize_session=False)
