"""Figures of the ticket store for monitoring: plain numbers, read on demand (the metrics endpoints
turn them into gauges at scrape time).

`StoreFigures.read` runs a handful of aggregate queries (tickets and handoff sessions by status, the
outbox backlog). `FiguresCache` keeps the last reading for a few seconds and never makes its caller
wait longer than a timeout: a database that is down or hangs gives ``None`` (the store is reported
down) instead of a hung or failed scrape. At most one reading runs at a time.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Dict, Optional

import sqlalchemy as sa

from bot.clock import utcnow
from bot.handoff import QUEUED, SessionStatus
from bot.storage.database import Database
from bot.storage.models import HandoffSessionRow, OutboxEventRow, TicketRow
from bot.tickets import Status


@dataclass(frozen=True)
class StoreFigures:
    tickets: Dict[str, int] = field(default_factory=dict)  # by status; every status present (0 when none)
    handoff_sessions: Dict[str, int] = field(default_factory=dict)  # by status
    outbox_pending: int = 0  # neither delivered nor dead
    outbox_dead: int = 0
    outbox_oldest_pending_seconds: float = 0.0  # age of the oldest pending event (0 when none)
    read_seconds: float = 0.0  # how long the reading took

    @property
    def queue_length(self) -> int:
        """Customers waiting for an agent or for a promised call-back."""
        return sum(self.handoff_sessions.get(status, 0) for status in QUEUED)

    @classmethod
    def read(cls, db: Database, clock: Callable[[], datetime] = utcnow) -> "StoreFigures":
        """Raises StoreUnavailable when the database does not answer."""
        started = time.monotonic()
        with db.transaction() as session:
            tickets = {status.value: 0 for status in Status}
            for status, count in session.execute(
                sa.select(TicketRow.status, sa.func.count()).group_by(TicketRow.status)
            ):
                tickets[status] = count
            sessions = {status.value: 0 for status in SessionStatus}
            for status, count in session.execute(
                sa.select(HandoffSessionRow.status, sa.func.count()).group_by(HandoffSessionRow.status)
            ):
                sessions[status] = count
            pending = OutboxEventRow.delivered_at.is_(None) & OutboxEventRow.dead_at.is_(None)
            count, oldest = session.execute(
                sa.select(sa.func.count(), sa.func.min(OutboxEventRow.created_at)).where(pending)
            ).one()
            dead = session.execute(
                sa.select(sa.func.count()).select_from(OutboxEventRow).where(OutboxEventRow.dead_at.isnot(None))
            ).scalar_one()
        if isinstance(oldest, str):  # SQLite's MIN() returns the stored text, not the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        age = max(0.0, (clock() - oldest).total_seconds()) if oldest is not None else 0.0
        return cls(tickets, sessions, count, dead, age, time.monotonic() - started)


class FiguresCache:
    """The store's figures, at most `max_age` seconds old, or None when it did not answer in `timeout`."""

    def __init__(
        self,
        read: Callable[[], StoreFigures],
        max_age: float = 5.0,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self.max_age = max_age
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-figures")
        self._running: Optional[concurrent.futures.Future] = None
        self._figures: Optional[StoreFigures] = None
        self._at = float("-inf")
        self.last_error: Optional[str] = None

    def get(self) -> Optional[StoreFigures]:
        with self._lock:
            if self._figures is not None and self._clock() - self._at < self.max_age:
                return self._figures
            if self._running is None or self._running.done():
                self._running = self._pool.submit(self._read)
            running = self._running
        try:
            figures = running.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            # Still running: the next scrape waits for the same reading instead of starting another.
            self.last_error = "timeout"
            return None
        except Exception as error:  # noqa: BLE001 - any failure means "store down" for monitoring
            self.last_error = error.__class__.__name__
            with self._lock:
                self._figures = None
            return None
        with self._lock:
            if running is self._running:
                self._figures, self._at, self._running = figures, self._clock(), None
        self.last_error = None
        return figures
