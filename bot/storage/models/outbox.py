"""The transactional outbox table: ticket events waiting to be pushed to the backend ticketing system."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from bot.storage.models.base import Base, UTCDateTime


class OutboxEventRow(Base):
    """Transactional outbox: one row per ticket event, written in the same transaction as the change,
    delivered to the backend ticketing system in order per ticket."""

    __tablename__ = "outbox_events"

    id = sa.Column(sa.Integer, primary_key=True)
    ticket_event_id = sa.Column(sa.Integer, sa.ForeignKey("ticket_events.id", ondelete="CASCADE"), nullable=False, unique=True)
    ticket_number = sa.Column(sa.String(32), nullable=False)
    kind = sa.Column(sa.String(32), nullable=False)
    idempotency_key = sa.Column(sa.String(64), nullable=False, unique=True)
    payload = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(UTCDateTime, nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_attempt_at = sa.Column(UTCDateTime, nullable=False)
    locked_until = sa.Column(UTCDateTime)
    locked_by = sa.Column(sa.String(64))
    delivered_at = sa.Column(UTCDateTime)
    dead_at = sa.Column(UTCDateTime)
    last_error = sa.Column(sa.String(255))

    ticket_event = relationship("TicketEventRow")

    __table_args__ = (
        sa.Index("ix_outbox_ticket_pending", "ticket_number", "delivered_at", "id"),
        sa.Index("ix_outbox_due", "delivered_at", "next_attempt_at"),
    )
