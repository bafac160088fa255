"""Dispatch of captured ticket events to the operator's backend ticketing system, without loss.

`OutboxDispatcher.run_once` claims the oldest pending event of each ticket (a lease written with a
conditional update; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), posts it outside any transaction, and
records the outcome. An event is only offered once every earlier event of its ticket is delivered, so
each ticket's events arrive in order. Failures back off exponentially with jitter; after
`max_attempts` an event is parked as dead (and its ticket's later events wait) until a supervisor
retries it. Several dispatchers (processes) may run at once; a crash after sending and before
recording means a resend, which the receiver drops by the event id.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa

from bot.clock import utcnow
from bot.outbox.transport import TRANSIENT_STATUSES, Sender, http_post
from bot.outbox.wire import (
    EVENT_ID_HEADER,
    SCHEMA,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AttachmentDocument,
    TicketEventDocument,
    sign,
)
from bot.storage.database import Database
from bot.storage.models import OutboxEventRow
from bot.urls import outbound_url

logger = logging.getLogger(__name__)


def _permanent(why: str) -> bool:
    match = re.match(r"HTTP (\d{3})$", why or "")
    return bool(match) and 400 <= int(match.group(1)) < 500 and int(match.group(1)) not in TRANSIENT_STATUSES


Links = Callable[[Iterable[str]], Dict[str, List[AttachmentDocument]]]

# Secrets that have been printed in documentation: whoever read it knows them.
PUBLISHED_SECRETS = frozenset({"dev-secret-change-me-please"})
MIN_SECRET_CHARS = 16


@dataclass(frozen=True)
class Settings:
    url: str
    secret: str
    timeout: float = 5.0  # seconds one push may take in all (connect, send, answer), not per socket read
    max_attempts: int = 12
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    batch: int = 50

    def __post_init__(self) -> None:
        """Checked once, at start: the push carries phones and descriptions, and its signature is only
        as good as the secret (bot/urls.py says which addresses are refused)."""
        outbound_url(self.url, "BACKEND_URL")
        if len(self.secret) < MIN_SECRET_CHARS:
            raise ValueError(f"BACKEND_SECRET must be set ({MIN_SECRET_CHARS} characters or more) when BACKEND_URL is")
        if self.secret in PUBLISHED_SECRETS:
            raise ValueError("BACKEND_SECRET is the example printed in the README: choose your own, e.g. openssl rand -hex 32")


@dataclass
class RoundResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0




class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        sender: Sender = http_post,
        clock: Callable[[], datetime] = utcnow,
        worker: Optional[str] = None,
        attachments: Optional[Links] = None,
    ) -> None:
        self.db = db
        self.settings = settings
        # Each ticket's evidence with links signed at sending time (AttachmentService.documents):
        # an event retried for hours still carries links that work.
        self.attachments = attachments
        self.sender = sender
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    def run_once(self) -> RoundResult:
        """Deliver what is due now: at most one event per ticket (the oldest pending one)."""
        result = RoundResult()
        claimed = self._claim()
        links = self.attachments([json.loads(c[3]).get("ticket", {}).get("number", "") for c in claimed]) if (
            self.attachments is not None and claimed) else {}
        for row_id, ticket_event_id, key, payload in claimed:
            body = self._body(payload, key, ticket_event_id, links)
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "intake-outbox/1",
                EVENT_ID_HEADER: key,
                "Idempotency-Key": key,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(body, self.settings.secret, timestamp),
            }
            ok, why = self.sender(self.settings.url, body, headers, self.settings.timeout)
            outcome = self._record(row_id, ok, why)
            if outcome == "delivered":
                result.delivered += 1
            elif outcome == "dead":
                result.dead += 1
            else:
                result.failed += 1
        return result

    def drain(self, rounds: int = 1000) -> RoundResult:
        """Run rounds until nothing is due (for tests and tools)."""
        total = RoundResult()
        for _ in range(rounds):
            step = self.run_once()
            total.delivered += step.delivered
            total.failed += step.failed
            total.dead += step.dead
            if not (step.delivered or step.failed or step.dead):
                break
        return total

    @staticmethod
    def _body(payload: str, key: str, ticket_event_id: int, links: Optional[Dict[str, List[AttachmentDocument]]] = None) -> bytes:
        event = json.loads(payload)
        ticket = event.get("ticket")
        if isinstance(ticket, dict):
            ticket["attachments"] = (links or {}).get(ticket.get("number", ""), ticket.get("attachments") or [])
        document: TicketEventDocument = {"schema": SCHEMA, "event_id": key, "sequence": ticket_event_id, **event}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    def _claim(self) -> List[Tuple[int, int, str, str]]:
        now = self.clock()
        earlier = sa.orm.aliased(OutboxEventRow)
        lease = timedelta(seconds=self.settings.batch * self.settings.timeout + 30)
        with self.db.transaction() as session:
            query = (
                sa.select(OutboxEventRow)
                .where(
                    OutboxEventRow.delivered_at.is_(None),
                    OutboxEventRow.dead_at.is_(None),
                    OutboxEventRow.next_attempt_at <= now,
                    sa.or_(OutboxEventRow.locked_until.is_(None), OutboxEventRow.locked_until < now),
                    ~sa.exists().where(
                        earlier.ticket_number == OutboxEventRow.ticket_number,
                        earlier.id < OutboxEventRow.id,
                        earlier.delivered_at.is_(None),
                    ),
                )
                .order_by(OutboxEventRow.id)
                .limit(self.settings.batch)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxEventRow)
            rows = session.execute(query).scalars().all()
            for row in rows:
                row.locked_until = now + lease
                row.locked_by = self.worker
            return [(row.id, row.ticket_event_id, row.idempotency_key, row.payload) for row in rows]

    def _record(self, row_id: int, ok: bool, why: str) -> str:
        now = self.clock()
        with self.db.transaction() as session:
            row = session.execute(
                sa.select(OutboxEventRow).where(OutboxEventRow.id == row_id).with_for_update()
            ).scalar_one_or_none()
            if row is None or row.locked_by != self.worker or row.delivered_at is not None:
                # Our lease ran out and another dispatcher took the event: its outcome counts.
                logger.warning("outbox event %s: lease lost before recording (%s)", row_id, "ok" if ok else why)
                return "delivered" if ok else "failed"
            row.locked_until = None
            row.locked_by = None
            row.attempts += 1
            if ok:
                row.delivered_at = now
                row.last_error = None
                return "delivered"
            row.last_error = why[:255]
            # Only answers that will not change by waiting (4xx: the backend rejects the event) park
            # it as dead; an outage (refused, timeout, 5xx, 429) is retried for as long as it lasts.
            if _permanent(why) and row.attempts >= self.settings.max_attempts:
                row.dead_at = now
                logger.error("outbox event %s of ticket %s parked as dead: %s", row.id, row.ticket_number, why)
                return "dead"
            delay = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (row.attempts - 1))
            row.next_attempt_at = now + timedelta(seconds=delay * random.uniform(0.5, 1.0))
            logger.warning("outbox event %s attempt %d failed (%s)", row.id, row.attempts, why)
            return "failed"
