"""What supervisors see and do with the outbox: parked (dead) events, retrying them, the backlog;
and pruning what no dispatcher will need again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional

import sqlalchemy as sa

from bot.clock import utcnow
from bot.storage.database import Database
from bot.storage.models import OutboxEventRow


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    ticket_number: str
    kind: str
    idempotency_key: str
    attempts: int
    created_at: datetime
    delivered_at: Optional[datetime]
    dead_at: Optional[datetime]
    last_error: Optional[str]

    @classmethod
    def from_row(cls, row: OutboxEventRow) -> "OutboxEvent":
        return cls(
            row.id, row.ticket_number, row.kind, row.idempotency_key, row.attempts, row.created_at,
            row.delivered_at, row.dead_at, row.last_error,
        )

# How long outbox rows stay once nobody needs them (they hold the phone and the description).
OUTBOX_KEEP = timedelta(days=7)
PRUNE_CHUNK = 500


class OutboxAdmin:
    """What supervisors see and do: parked (dead) events, retrying them, the backlog; and pruning."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def prune(self, keep: timedelta = OUTBOX_KEEP) -> Dict[str, int]:
        """Delete outbox rows that no dispatcher will ever need, older than `keep`.

        Capture stays on whether or not push is configured: the change is recorded in the same
        transaction in every process (action server and CLI too), and a process that wrongly
        believed push was off would otherwise lose events for good. What is removed here instead:

        * delivered events: the backend acknowledged them, and nothing reads them again (the pull
          API reads tickets and their history, not the outbox);
        * events never offered to any backend, while no dispatcher has touched any event for
          `keep`: push is off, so turning it on later sends the last `keep` of changes, not years of
          them (a backend catches up on older tickets through the pull API).

        Dead events and every event behind one stay for the supervisor's retry."""
        cutoff = self.clock() - keep
        events = OutboxEventRow
        delivered = self._delete(events.delivered_at.isnot(None), events.delivered_at < cutoff)
        never_pushed = 0
        if not self._push_active_since(cutoff):
            dead = sa.orm.aliased(OutboxEventRow)
            never_pushed = self._delete(
                events.delivered_at.is_(None), events.dead_at.is_(None), events.attempts == 0,
                events.locked_by.is_(None), events.created_at < cutoff,
                ~sa.exists().where(dead.ticket_number == events.ticket_number, dead.dead_at.isnot(None)),
            )
        return {"delivered": delivered, "never_pushed": never_pushed}

    def _push_active_since(self, cutoff: datetime) -> bool:
        events = OutboxEventRow
        with self.db.transaction() as session:
            return session.execute(
                sa.select(events.id).where(
                    sa.or_(
                        events.delivered_at >= cutoff,
                        events.dead_at >= cutoff,
                        events.locked_until >= cutoff,
                        sa.and_(events.attempts > 0, events.next_attempt_at >= cutoff),
                    )
                ).limit(1)
            ).first() is not None

    def _delete(self, *conditions: Any) -> int:
        """In chunks: short transactions, so pruning a long backlog never holds up the writers."""
        total = 0
        while True:
            with self.db.transaction() as session:
                ids = session.execute(
                    sa.select(OutboxEventRow.id).where(*conditions).order_by(OutboxEventRow.id).limit(PRUNE_CHUNK)
                ).scalars().all()
                if not ids:
                    return total
                session.execute(
                    sa.delete(OutboxEventRow).where(OutboxEventRow.id.in_(ids)).execution_options(synchronize_session=False)
                )
            total += len(ids)

    def dead(self, limit: int = 100) -> List[OutboxEvent]:
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(OutboxEventRow).where(OutboxEventRow.dead_at.isnot(None)).order_by(OutboxEventRow.id).limit(limit)
            ).scalars()
            return [OutboxEvent.from_row(row) for row in rows]

    def retry(self, event_id: int) -> bool:
        """Give a dead event a fresh set of attempts; False when there is no such dead event."""
        with self.db.transaction() as session:
            done = session.execute(
                sa.update(OutboxEventRow)
                .where(OutboxEventRow.id == event_id, OutboxEventRow.dead_at.isnot(None))
                .values(dead_at=None, attempts=0, next_attempt_at=self.clock(), last_error=None)
            ).rowcount
            return done == 1

    def backlog(self) -> Dict[str, int]:
        with self.db.transaction() as session:
            pending = session.execute(
                sa.select(sa.func.count(OutboxEventRow.id)).where(
                    OutboxEventRow.delivered_at.is_(None), OutboxEventRow.dead_at.is_(None)
                )
            ).scalar_one()
            dead = session.execute(
                sa.select(sa.func.count(OutboxEventRow.id)).where(OutboxEventRow.dead_at.isnot(None))
            ).scalar_one()
            return {"pending": pending, "dead": dead}
