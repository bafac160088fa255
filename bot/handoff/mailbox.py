"""The customer's mailbox: messages from agents and the system waiting for a channel to deliver.

A process claims a message for a while (a lease), sends it, and marks it delivered once the
channel accepted it; a claim that runs out (its process died) offers the message again. At least
once: a customer may get a message twice, never not at all, and the message id lets a client drop
the repeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional, Sequence

import sqlalchemy as sa

from bot.handoff._rows import SYSTEM, Part
from bot.handoff.model import Message
from bot.storage.models import AgentRow, HandoffMessageRow
from bot.tickets import Customer

# How long a process holds a message it is sending; above the Bot API's 40 s timeout, so a slow send
# is not offered to a second process meanwhile.
DELIVERY_LEASE = timedelta(seconds=60)


def unclaimed(now: datetime) -> sa.sql.ColumnElement:
    """Held by no process: never claimed, given back, or the claim ran out (its process died)."""
    return sa.or_(HandoffMessageRow.claimed_until.is_(None), HandoffMessageRow.claimed_until < now)


class Mailbox(Part):
    """Replay, pending deliveries, and the claim → delivered / failed / unclaimed cycle."""

    def messages_for_customer(self, customer: Customer, after_id: int, limit: int = 100) -> List[Message]:
        """What agents and the system told this customer after `after_id` (delivered or not): a
        reconnecting client replays what it may have missed, and ignores ids it already shows."""
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(HandoffMessageRow, AgentRow.display_name)
                .outerjoin(AgentRow, AgentRow.username == HandoffMessageRow.agent)
                .where(
                    HandoffMessageRow.channel == customer.channel,
                    HandoffMessageRow.channel_user_id == customer.user_id,
                    HandoffMessageRow.to_customer.is_(True),
                    HandoffMessageRow.id > after_id,
                )
                .order_by(HandoffMessageRow.id)
                .limit(limit)
            ).all()
            return [Message.from_row(m, customer, name) for m, name in rows]

    def pending_deliveries(
        self,
        channel: Optional[str] = None,
        user_id: Optional[str] = None,
        limit: int = 200,
        user_ids: Optional[Sequence[str]] = None,
    ) -> List[Message]:
        """Messages for customers that no channel has delivered yet (nor holds right now), oldest first.

        `user_ids` limits the search to customers a process can reach, so messages for customers who
        are away never crowd out those for customers who are here.
        """
        with self.db.transaction() as session:
            query = (
                sa.select(HandoffMessageRow, AgentRow.display_name)
                .outerjoin(AgentRow, AgentRow.username == HandoffMessageRow.agent)
                .where(
                    HandoffMessageRow.to_customer.is_(True),
                    HandoffMessageRow.delivered_at.is_(None),
                    HandoffMessageRow.failed_at.is_(None),
                    unclaimed(self.clock()),
                )
            )
            if channel is not None:
                query = query.where(HandoffMessageRow.channel == channel)
            if user_id is not None:
                query = query.where(HandoffMessageRow.channel_user_id == user_id)
            if user_ids is not None:
                if not user_ids:
                    return []
                query = query.where(HandoffMessageRow.channel_user_id.in_(list(user_ids)))
            rows = session.execute(query.order_by(HandoffMessageRow.id).limit(limit)).all()
            return [Message.from_row(m, Customer(m.channel, m.channel_user_id), name) for m, name in rows]

    def claim_delivery(self, message_id: int, lease: timedelta = DELIVERY_LEASE) -> bool:
        """Hold a message for sending; of processes claiming at once exactly one gets True. Not yet
        delivered: `delivered` says so after the channel accepted it, and if that never comes (the
        process died) the claim runs out and the message is offered again."""
        now = self.clock()
        with self.db.transaction() as session:
            result = session.execute(
                sa.update(HandoffMessageRow)
                .where(
                    HandoffMessageRow.id == message_id,
                    HandoffMessageRow.delivered_at.is_(None),
                    HandoffMessageRow.failed_at.is_(None),
                    unclaimed(now),
                )
                .values(claimed_until=now + lease)
            )
            return result.rowcount == 1

    def delivered(self, message_id: int) -> None:
        """The channel accepted the message: it is never offered again."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(HandoffMessageRow)
                .where(HandoffMessageRow.id == message_id, HandoffMessageRow.delivered_at.is_(None))
                .values(delivered_at=self.clock(), claimed_until=None)
            )

    def delivery_failed(self, message_id: int, error: str) -> None:
        """The channel gave up (after its own retries): stop trying and show it to the agent."""
        with self.db.transaction() as session:
            row = session.get(HandoffMessageRow, message_id)
            if row is None:
                return
            row.delivered_at = row.claimed_until = None
            row.failed_at = self.clock()
            row.last_error = (error or "unknown")[:255]
            self._event(session, row.session_id, "delivery_failed", SYSTEM, str(row.id))
        self._changed()

    def unclaim_delivery(self, message_id: int) -> None:
        """The channel could not deliver after claiming: keep the message for the next try."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(HandoffMessageRow)
                .where(HandoffMessageRow.id == message_id, HandoffMessageRow.delivered_at.is_(None))
                .values(claimed_until=None)
            )
