"""Tables channels keep between turns: updates taken in, replies that could not be delivered,
and the web chat's issued conversation ids (evidence sent before a complaint is an attachment row
without a ticket: models/attachments.py)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.models.base import Base, UTCDateTime


class InboundUpdateRow(Base):
    """Updates a channel has taken in (e.g. Telegram update_id): a redelivered one is processed once.

    A row is first a claim with a lease (`holder`, `claimed_until`), renewed while the turn runs, and
    becomes done (`done_at`) only when the turn completed; a claim whose process died expires and a
    redelivery takes it over. `error` records an update given up after repeated failures."""

    __tablename__ = "inbound_updates"

    channel = sa.Column(sa.String(32), primary_key=True)
    update_key = sa.Column(sa.String(64), primary_key=True)
    received_at = sa.Column(UTCDateTime, nullable=False, index=True)
    holder = sa.Column(sa.String(32))
    claimed_until = sa.Column(UTCDateTime)
    done_at = sa.Column(UTCDateTime)
    error = sa.Column(sa.String(255))


class DeliveryFailureRow(Base):
    """A reply that could not reach the customer after retries, kept for the agents to see."""

    __tablename__ = "delivery_failures"

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    error = sa.Column(sa.String(255), nullable=False)
    at = sa.Column(UTCDateTime, nullable=False, index=True)


class ChatSessionRow(Base):
    """A web chat conversation id the server issued (bot/chat_sessions.py): the id is the customer's
    whole identity on that channel, so only ids issued here, not ended and not idle too long, are
    accepted from a page."""

    __tablename__ = "chat_sessions"

    session_id = sa.Column(sa.String(32), primary_key=True)
    issued_at = sa.Column(UTCDateTime, nullable=False)
    last_seen_at = sa.Column(UTCDateTime, nullable=False)
    ended_at = sa.Column(UTCDateTime)
