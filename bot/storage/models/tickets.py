"""Tables of tickets: the ticket, its history, the change counter the outbox pages on, and
escalation requests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from bot.storage.models.base import Base, UTCDateTime


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
    # Outage detection counts at most a few phones per source (bot/incidents/).
    origin = sa.Column(sa.String(24))
    # Position of the ticket's latest change in commit order (bot/storage/capture.py): what pulling backends page on.
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
