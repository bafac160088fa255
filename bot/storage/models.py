"""Tables of the ticket store. Times are stored as naive UTC and returned timezone-aware."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ticket store")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[datetime], dialect):  # type: ignore[override]
        return None if value is None else value.replace(tzinfo=timezone.utc)


class TicketRow(Base):
    __tablename__ = "tickets"

    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(32), nullable=False, unique=True)
    # Who filed it: the channel and the customer's id on that channel.
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    contact_phone = sa.Column(sa.String(20))
    category = sa.Column(sa.String(16), nullable=False)
    severity = sa.Column(sa.String(16), nullable=False)
    severity_reason = sa.Column(sa.String(255), nullable=False)
    department = sa.Column(sa.String(32), nullable=False)
    responsible = sa.Column(sa.String(128))
    status = sa.Column(sa.String(16), nullable=False)
    description = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(UTCDateTime, nullable=False)
    updated_at = sa.Column(UTCDateTime, nullable=False)
    response_due = sa.Column(UTCDateTime, nullable=False)
    resolve_due = sa.Column(UTCDateTime, nullable=False)
    human_requested_at = sa.Column(UTCDateTime)
    # Makes creation idempotent: a retried action call finds the ticket it already made.
    idempotency_key = sa.Column(sa.String(255), unique=True)

    events = relationship("TicketEventRow", order_by="TicketEventRow.id", back_populates="ticket")

    __table_args__ = (sa.Index("ix_tickets_customer", "channel", "channel_user_id", "created_at"),)


class TicketEventRow(Base):
    """History of a ticket: every change and every customer addition, with who and when."""

    __tablename__ = "ticket_events"

    id = sa.Column(sa.Integer, primary_key=True)
    ticket_id = sa.Column(sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    at = sa.Column(UTCDateTime, nullable=False)
    actor = sa.Column(sa.String(128), nullable=False)
    kind = sa.Column(sa.String(32), nullable=False)
    detail = sa.Column(sa.Text, nullable=False, default="")

    ticket = relationship("TicketRow", back_populates="events")
