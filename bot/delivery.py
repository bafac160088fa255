"""Bookkeeping of channels: what came in (so a redelivered update is handled, and once it was
handled to the end, never again) and what could not go out (so a reply that never reached the
customer is kept for the agents, never silently lost)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Callable, List

import sqlalchemy as sa

from bot.clock import utcnow
from bot.errors import Conflict
from bot.storage.database import Database
from bot.storage.models import DeliveryFailureRow, InboundUpdateRow, TicketEventRow
from bot.text import description_from, mask_personal_data
from bot.tickets import Customer, latest_open_row

logger = logging.getLogger(__name__)

# Telegram redelivers an unanswered update for up to a day; keep keys a little longer.
KEEP_INBOUND = timedelta(days=2)
# How long a claim on an update lasts without renewal: its holder renews it every third of this while
# the turn runs, so only a dead (or stalled) process loses it.
LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class DeliveryFailure:
    id: int
    customer: Customer
    text: str
    error: str
    at: datetime


class Claim(str, Enum):
    """What a process got when it asked for an update."""

    TAKEN = "taken"  # yours to handle (new, or a stale claim of a process that died)
    DONE = "done"  # handled before: a redelivery
    BUSY = "busy"  # another process is handling it right now (its lease is alive)


class InboundLog:
    """At-least-once intake of redelivered updates (Telegram resends an update until it is answered).

    An update is claimed with a lease that its holder renews while the turn runs, and marked done only
    when the turn completed. A process that dies mid-turn leaves a claim that runs out, so the
    redelivery is handled, not dropped; a redelivery during a live turn is told to wait. A turn may so
    run twice (the dead process may have got far): what it files is keyed by the update, so a ticket
    is still filed once (actions/common.py idempotency_key).
    """

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow, lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease

    @staticmethod
    def _row(channel: str, key: str) -> Any:
        return sa.and_(InboundUpdateRow.channel == channel, InboundUpdateRow.update_key == str(key)[:64])

    def claim(self, channel: str, key: str, holder: str) -> Claim:
        now = self.clock()
        try:
            with self.db.transaction() as session:
                session.add(
                    InboundUpdateRow(
                        channel=channel, update_key=str(key)[:64], received_at=now, holder=holder,
                        claimed_until=now + self.lease,
                    )
                )
            return Claim.TAKEN
        except Conflict:
            pass
        with self.db.transaction() as session:
            # One statement: of two processes taking over a stale claim, exactly one updates the row.
            taken = session.execute(
                sa.update(InboundUpdateRow)
                .where(
                    self._row(channel, key),
                    InboundUpdateRow.done_at.is_(None),
                    sa.or_(InboundUpdateRow.claimed_until.is_(None), InboundUpdateRow.claimed_until < now),
                )
                .values(holder=holder, claimed_until=now + self.lease)
            ).rowcount
            if taken:
                logger.warning("%s update %s taken over from a claim that ran out", channel, key)
                return Claim.TAKEN
            done = session.execute(sa.select(InboundUpdateRow.done_at).where(self._row(channel, key))).first()
        if done is None:  # pruned between the two statements: a very old redelivery
            return Claim.DONE
        return Claim.DONE if done[0] is not None else Claim.BUSY

    def renew(self, channel: str, key: str, holder: str) -> bool:
        """Keep the claim while the turn runs; False when it was lost (taken over after a long stall)."""
        with self.db.transaction() as session:
            return session.execute(
                sa.update(InboundUpdateRow)
                .where(self._row(channel, key), InboundUpdateRow.holder == holder, InboundUpdateRow.done_at.is_(None))
                .values(claimed_until=self.clock() + self.lease)
            ).rowcount == 1

    def done(self, channel: str, key: str) -> None:
        """The turn completed: every later redelivery is a duplicate."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(InboundUpdateRow)
                .where(self._row(channel, key), InboundUpdateRow.done_at.is_(None))
                .values(done_at=self.clock(), claimed_until=None)
            )

    def release(self, channel: str, key: str, holder: str) -> None:
        """The turn failed: a redelivery (or the poller's next try) may take the update at once."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(InboundUpdateRow)
                .where(self._row(channel, key), InboundUpdateRow.holder == holder, InboundUpdateRow.done_at.is_(None))
                .values(claimed_until=None)
            )

    def give_up(self, channel: str, key: str, error: str) -> None:
        """After repeated failures: stop trying, and keep why (the update is not silently dropped)."""
        now = self.clock()
        with self.db.transaction() as session:
            updated = session.execute(
                sa.update(InboundUpdateRow)
                .where(self._row(channel, key))
                .values(done_at=now, claimed_until=None, error=error[:255])
            ).rowcount
            if not updated:
                session.add(
                    InboundUpdateRow(
                        channel=channel, update_key=str(key)[:64], received_at=now, done_at=now, error=error[:255]
                    )
                )
        logger.error("%s update %s given up after repeated failures: %s", channel, key, error)

    def prune(self) -> None:
        with self.db.transaction() as session:
            session.execute(sa.delete(InboundUpdateRow).where(InboundUpdateRow.received_at < self.clock() - KEEP_INBOUND))


class FailedDeliveries:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def record(self, customer: Customer, text: str, error: str) -> None:
        """Keep the reply; also note it on the customer's open ticket, where their agent looks."""
        now = self.clock()
        with self.db.transaction() as session:
            session.add(
                DeliveryFailureRow(
                    channel=customer.channel,
                    channel_user_id=customer.user_id,
                    text=text,
                    error=error[:255],
                    at=now,
                )
            )
            ticket = latest_open_row(session, customer)
            if ticket is not None:
                ticket.events.append(
                    TicketEventRow(
                        at=now, actor="system", kind="delivery_failed", detail=f"未能送达客户：{description_from(text)[:500]}"
                    )
                )
        logger.error(
            "reply to %s:%s not delivered (%s): %s",
            customer.channel,
            mask_personal_data(customer.user_id),
            error,
            mask_personal_data(text[:80]),
        )

    def recent(self, limit: int = 50) -> List[DeliveryFailure]:
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(DeliveryFailureRow).order_by(DeliveryFailureRow.id.desc()).limit(limit)
            ).scalars()
            return [
                DeliveryFailure(r.id, Customer(r.channel, r.channel_user_id), r.text, r.error, r.at) for r in rows
            ]
