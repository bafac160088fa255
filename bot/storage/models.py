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
    # When the responsible person next owes the customer a progress update (24 h rule).
    progress_due = sa.Column(UTCDateTime)
    # Makes creation idempotent: a retried action call finds the ticket it already made.
    idempotency_key = sa.Column(sa.String(255), unique=True)
    # A repeat complaint (same customer, same category, within 30 days): the earlier ticket, and how many.
    repeat_of = sa.Column(sa.String(32))
    repeat_count = sa.Column(sa.Integer, nullable=False, default=0)
    # Deadlines: when the first response happened, and each breach (written once).
    responded_at = sa.Column(UTCDateTime)
    response_breached_at = sa.Column(UTCDateTime)
    resolve_breached_at = sa.Column(UTCDateTime)
    progress_breached_due = sa.Column(UTCDateTime)  # the progress_due that was missed (one breach per due)
    # Escalation (投诉升级): how many levels up, and the higher-level handler named by a supervisor.
    escalation_level = sa.Column(sa.Integer, nullable=False, default=0)
    handler = sa.Column(sa.String(64))
    # Feedback: the survey after resolution, the customer's answer, and a follow-up call (回访).
    survey_sent_at = sa.Column(UTCDateTime)
    rating = sa.Column(sa.Integer)
    rating_comment = sa.Column(sa.Text)
    rated_at = sa.Column(UTCDateTime)
    follow_up_due = sa.Column(UTCDateTime)
    # Outage aggregation (故障聚合): where and what, as told by the customer, and the parent incident.
    area = sa.Column(sa.String(64))
    symptom = sa.Column(sa.String(32))
    incident_id = sa.Column(sa.Integer, sa.ForeignKey("incidents.id", name="fk_tickets_incident"))
    # Personal data removed on the customer's request or by retention: facts stay, identity is gone.
    anonymised_at = sa.Column(UTCDateTime)
    # Where the complaint came from: a keyed pseudonym of the client's network address
    # (bot/limits.address_ref), null when the channel account itself is the source (Telegram).
    # Outage detection counts at most a few phones per source (bot/incidents.py).
    origin = sa.Column(sa.String(24))
    # Position of the ticket's latest change in commit order (bot/outbox.py): what pulling backends page on.
    change_seq = sa.Column(sa.BigInteger)

    events = relationship("TicketEventRow", order_by="TicketEventRow.id", back_populates="ticket")

    __table_args__ = (
        sa.Index("ix_tickets_change_seq", "change_seq"),
        sa.Index("ix_tickets_customer", "channel", "channel_user_id", "created_at"),
        sa.Index("ix_tickets_category_created", "category", "created_at"),
        sa.Index("ix_tickets_incident", "incident_id"),
    )


class ChangeCounterRow(Base):
    """One row: the last change position handed out. Taken as a transaction's last lock, just before
    it commits, so positions follow commit order (issue 14, M7)."""

    __tablename__ = "change_counter"

    id = sa.Column(sa.Integer, primary_key=True)
    value = sa.Column(sa.BigInteger, nullable=False)


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


class AgentRow(Base):
    """A staff account of the agent console: an agent or a supervisor."""

    __tablename__ = "agents"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    display_name = sa.Column(sa.String(64), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    # Presence: the agent counts as online until this moment; every console request extends it.
    online_until = sa.Column(UTCDateTime)


class AgentTokenRow(Base):
    """A login: only the SHA-256 of the bearer token is stored."""

    __tablename__ = "agent_tokens"

    token_hash = sa.Column(sa.String(64), primary_key=True)
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    expires_at = sa.Column(UTCDateTime, nullable=False)


class LoginFailureRow(Base):
    __tablename__ = "login_failures"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False)
    client = sa.Column(sa.String(64), nullable=False)
    at = sa.Column(UTCDateTime, nullable=False, index=True)


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


class PendingEvidenceRow(Base):
    """A photo or document sent before the complaint was filed; attached to the next ticket."""

    __tablename__ = "pending_evidence"

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    kind = sa.Column(sa.String(16), nullable=False)
    file_ref = sa.Column(sa.String(255), nullable=False)
    caption = sa.Column(sa.Text, nullable=False, default="")
    at = sa.Column(UTCDateTime, nullable=False)

    __table_args__ = (sa.Index("ix_pending_evidence_customer", "channel", "channel_user_id"),)


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


class EscalationRow(Base):
    """A request to take a ticket one level up (投诉升级), decided by a supervisor."""

    __tablename__ = "escalations"

    id = sa.Column(sa.Integer, primary_key=True)
    ticket_id = sa.Column(sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    source = sa.Column(sa.String(16), nullable=False)  # customer | agent | automatic
    requested_by = sa.Column(sa.String(64), nullable=False)
    reason = sa.Column(sa.String(500), nullable=False)
    status = sa.Column(sa.String(16), nullable=False)  # pending | accepted | declined
    requested_at = sa.Column(UTCDateTime, nullable=False)
    decided_by = sa.Column(sa.String(64))
    decided_at = sa.Column(UTCDateTime)
    decision_reason = sa.Column(sa.String(500))
    handler = sa.Column(sa.String(64))

    ticket = relationship("TicketRow")

    __table_args__ = (
        # One pending request per ticket at a time.
        sa.Index(
            "uq_escalation_pending", "ticket_id", unique=True,
            sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"),
        ),
    )


class IncidentRow(Base):
    """A parent incident (故障): many network complaints about one area or symptom in a short time."""

    __tablename__ = "incidents"

    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(32), nullable=False, unique=True)
    status = sa.Column(sa.String(16), nullable=False)  # open | closed
    category = sa.Column(sa.String(16), nullable=False)
    area = sa.Column(sa.String(64))
    symptom = sa.Column(sa.String(32))
    # What new complaints are matched on (area and/or symptom); one open incident per key.
    match_key = sa.Column(sa.String(128), nullable=False)
    title = sa.Column(sa.String(255), nullable=False)
    opened_at = sa.Column(UTCDateTime, nullable=False)
    opened_by = sa.Column(sa.String(64), nullable=False)
    eta = sa.Column(UTCDateTime)  # expected recovery, told to customers
    note = sa.Column(sa.Text)
    closed_at = sa.Column(UTCDateTime)
    closed_by = sa.Column(sa.String(64))
    resolution = sa.Column(sa.Text)
    updated_at = sa.Column(UTCDateTime, nullable=False)

    tickets = relationship("TicketRow", order_by="TicketRow.id")

    __table_args__ = (
        sa.Index(
            "uq_incident_open_key", "match_key", unique=True,
            sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"),
        ),
    )


class PrivacyRequestRow(Base):
    """A customer's request to see (access) or delete their personal data (个人信息保护法)."""

    __tablename__ = "privacy_requests"

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    kind = sa.Column(sa.String(16), nullable=False)  # access | delete
    status = sa.Column(sa.String(16), nullable=False)  # pending | done | rejected
    requested_at = sa.Column(UTCDateTime, nullable=False)
    verified_at = sa.Column(UTCDateTime)
    decided_by = sa.Column(sa.String(64))
    decided_at = sa.Column(UTCDateTime)
    note = sa.Column(sa.String(500))
    result = sa.Column(sa.Text)  # JSON summary of what was shown or removed

    __table_args__ = (
        sa.Index("ix_privacy_requests_status", "status", "requested_at"),
        sa.Index("ix_privacy_requests_customer", "channel", "channel_user_id"),
    )


class PrivacyPhoneCheckRow(Base):
    """Failed phone checks of a customer's requests to see or delete their data, per day (Beijing
    date). Kept here rather than in the conversation, where starting the request again would reset
    it: the limit holds per customer and day, however often the request is restarted."""

    __tablename__ = "privacy_phone_checks"

    channel = sa.Column(sa.String(32), primary_key=True)
    channel_user_id = sa.Column(sa.String(255), primary_key=True)
    day = sa.Column(sa.Date, primary_key=True)
    failures = sa.Column(sa.Integer, nullable=False, default=0)


class PrivacyNoticeRow(Base):
    """The customer has been shown the personal-data notice on this channel (at first contact)."""

    __tablename__ = "privacy_notices"

    channel = sa.Column(sa.String(32), primary_key=True)
    channel_user_id = sa.Column(sa.String(255), primary_key=True)
    shown_at = sa.Column(UTCDateTime, nullable=False)


class ChatSessionRow(Base):
    """A web chat conversation id the server issued (bot/chat_sessions.py): the id is the customer's
    whole identity on that channel, so only ids issued here, not ended and not idle too long, are
    accepted from a page."""

    __tablename__ = "chat_sessions"

    session_id = sa.Column(sa.String(32), primary_key=True)
    issued_at = sa.Column(UTCDateTime, nullable=False)
    last_seen_at = sa.Column(UTCDateTime, nullable=False)
    ended_at = sa.Column(UTCDateTime)


class AccessLogRow(Base):
    """Every read of a customer's data by an agent or supervisor (who, what, whose, when, from where)."""

    __tablename__ = "access_log"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime, nullable=False, index=True)
    actor = sa.Column(sa.String(64), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    action = sa.Column(sa.String(32), nullable=False)
    channel = sa.Column(sa.String(32))
    channel_user_id = sa.Column(sa.String(255))
    target = sa.Column(sa.String(64), nullable=False, default="")
    client = sa.Column(sa.String(64), nullable=False, default="")

    __table_args__ = (sa.Index("ix_access_log_customer", "channel", "channel_user_id", "at"),)
