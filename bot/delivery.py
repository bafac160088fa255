"""Bookkeeping of channels: what came in (so a redelivered update is handled once) and what could
not go out (so a reply that never reached the customer is kept for the agents, never silently lost)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, List

import sqlalchemy as sa

from bot.errors import Conflict
from bot.storage.database import Database
from bot.storage.models import DeliveryFailureRow, InboundUpdateRow, TicketEventRow
from bot.text import description_from, mask_personal_data
from bot.tickets import Customer, latest_open_row

logger = logging.getLogger(__name__)

# Telegram redelivers an unanswered update for up to a day; keep keys a little longer.
KEEP_INBOUND = timedelta(days=2)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class DeliveryFailure:
    id: int
    customer: Customer
    text: str
    error: str
    at: datetime


class InboundLog:
    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    def first_time(self, channel: str, key: str) -> bool:
        """Claim an update; False when it was already taken in (by this or another process)."""
        now = self.clock()
        try:
            with self.db.transaction() as session:
                session.add(InboundUpdateRow(channel=channel, update_key=str(key)[:64], received_at=now))
        except Conflict:
            return False
        return True

    def forget(self, channel: str, key: str) -> None:
        """Processing failed: let a redelivery try again."""
        with self.db.transaction() as session:
            session.execute(
                sa.delete(InboundUpdateRow).where(
                    InboundUpdateRow.channel == channel, InboundUpdateRow.update_key == str(key)[:64]
                )
            )

    def prune(self) -> None:
        with self.db.transaction() as session:
            session.execute(sa.delete(InboundUpdateRow).where(InboundUpdateRow.received_at < self.clock() - KEEP_INBOUND))


class FailedDeliveries:
    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
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
