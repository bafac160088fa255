"""Tables of the human handoff: sessions, their transcript (and the customer's mailbox), and the
change feed the consoles follow."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.models.base import Base, UTCDateTime


class HandoffSessionRow(Base):
    """A customer's conversation while it is with (or waiting for) a human agent."""

    __tablename__ = "handoff_sessions"

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(16), nullable=False)
    reason = sa.Column(sa.String(255), nullable=False)
    ticket_number = sa.Column(sa.String(32))
    category = sa.Column(sa.String(16))
    severity = sa.Column(sa.String(16), nullable=False)
    requested_at = sa.Column(UTCDateTime, nullable=False)
    due = sa.Column(UTCDateTime, nullable=False)
    accepted_at = sa.Column(UTCDateTime)
    ended_at = sa.Column(UTCDateTime)
    # owner: the responsible person (首问负责人); agent: who is talking to the customer right now.
    owner = sa.Column(sa.String(64))
    agent = sa.Column(sa.String(64))
    transfer_to = sa.Column(sa.String(64))
    transfer_reason = sa.Column(sa.String(255))
    escalated_at = sa.Column(UTCDateTime)
    callback_due = sa.Column(UTCDateTime)
    updated_at = sa.Column(UTCDateTime, nullable=False)

    __table_args__ = (
        # At most one open session (queued, call-back or active) per customer, whoever races to create it.
        sa.Index(
            "uq_handoff_open_customer",
            "channel",
            "channel_user_id",
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'callback', 'active')"),
            postgresql_where=sa.text("status IN ('waiting', 'callback', 'active')"),
        ),
        sa.Index("ix_handoff_status_due", "status", "due"),
    )


class HandoffMessageRow(Base):
    """The transcript: the bot conversation before the handoff, then everything said during it."""

    __tablename__ = "handoff_messages"

    id = sa.Column(sa.Integer, primary_key=True)
    # None for notices outside a live chat (a ticket's result, the survey, an escalation decision).
    session_id = sa.Column(sa.Integer, sa.ForeignKey("handoff_sessions.id", ondelete="CASCADE"), index=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    at = sa.Column(UTCDateTime, nullable=False)
    sender = sa.Column(sa.String(16), nullable=False)  # customer | bot | agent | system
    agent = sa.Column(sa.String(64))
    text = sa.Column(sa.Text, nullable=False)
    # Messages for the customer wait here until a channel delivers them (the outbox of the chat).
    to_customer = sa.Column(sa.Boolean, nullable=False, default=False)
    delivered_at = sa.Column(UTCDateTime)
    # A process sending the message holds it until then (a lease): if it dies before the channel
    # accepted the message, the lease runs out and the message is offered again (at-least-once).
    claimed_until = sa.Column(UTCDateTime)
    # A channel that finally could not deliver (e.g. the customer blocked the bot) marks it failed:
    # it stops being retried and the console shows it.
    failed_at = sa.Column(UTCDateTime)
    last_error = sa.Column(sa.String(255))
    buttons = sa.Column(sa.Text)  # JSON list of {title, payload}

    __table_args__ = (
        sa.Index("ix_handoff_undelivered", "to_customer", "delivered_at"),
        sa.Index("ix_handoff_messages_customer", "channel", "channel_user_id", "id"),
    )


class HandoffEventRow(Base):
    """The change feed the consoles follow: one row per change of any session."""

    __tablename__ = "handoff_events"

    id = sa.Column(sa.Integer, primary_key=True)
    session_id = sa.Column(sa.Integer, sa.ForeignKey("handoff_sessions.id", ondelete="CASCADE"), index=True)
    at = sa.Column(UTCDateTime, nullable=False)
    kind = sa.Column(sa.String(32), nullable=False)
    actor = sa.Column(sa.String(64), nullable=False)
    detail = sa.Column(sa.Text, nullable=False, default="")
