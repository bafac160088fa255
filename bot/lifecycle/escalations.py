"""Escalation (升级): a request (customer, agent or automatic) waits in the supervisors' queue;
accepting raises the ticket's level and severity and names a higher-level handler; declining says
why. The first responsible person stays responsible for keeping the customer informed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import ticket_numbers
from bot.clock import utcnow
from bot.customers import Customer
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.feed import feed_event
from bot.notices import notice
from bot.severity import Assessment, Severity
from bot.staff import StaffMember
from bot.storage.database import Database
from bot.storage.models import AgentRow, EscalationRow, HandoffSessionRow, TicketRow
from bot.text import beijing_time
from bot.tickets.model import Status
from bot.tickets.rows import add_event, find_row, raise_severity_row


def _customer_of(row: TicketRow) -> Customer:
    return Customer(row.channel, row.channel_user_id)


def _live_session(session: Session, ticket: TicketRow) -> Optional[int]:
    """The customer's open handoff session, so the decision's feed event reaches the agent's chat."""
    return session.execute(
        sa.select(HandoffSessionRow.id)
        .where(
            HandoffSessionRow.channel == ticket.channel,
            HandoffSessionRow.channel_user_id == ticket.channel_user_id,
            HandoffSessionRow.status.in_(("waiting", "callback", "active")),
        )
        .order_by(HandoffSessionRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()


ESCALATION_REQUESTED_TEXT = "您的工单 {number} 已提交升级申请，主管会尽快审核，结果会第一时间告诉您。"
ESCALATION_ACCEPTED_TEXT = "您的工单 {number} 已升级处理，由{handler}负责跟进，处理时限提前到 {due} 前。原负责人会继续向您通报进展。"
ESCALATION_DECLINED_TEXT = "您的工单 {number} 的升级申请经主管审核暂不升级，原因：{reason}。原负责人会继续为您处理。"

_NEXT = {Severity.GENERAL: Severity.MAJOR, Severity.MAJOR: Severity.URGENT, Severity.URGENT: Severity.URGENT}


@dataclass(frozen=True)
class Escalation:
    id: int
    ticket_number: str
    source: str
    requested_by: str
    reason: str
    status: str
    requested_at: datetime
    decided_by: Optional[str]
    decision_reason: Optional[str]
    handler: Optional[str]
    severity: str
    responsible: Optional[str]

    @classmethod
    def from_row(cls, row: EscalationRow) -> "Escalation":
        return cls(
            row.id, row.ticket.number, row.source, row.requested_by, row.reason, row.status, row.requested_at,
            row.decided_by, row.decision_reason, row.handler, row.ticket.severity, row.ticket.responsible,
        )


class Escalations:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def request(
        self, number: str, source: str, requested_by: str, reason: str, notify: bool = True
    ) -> Tuple[Escalation, bool]:
        """Put a ticket in the supervisors' queue; (request, created). A pending one is reused.

        `notify=False` when the caller tells the customer itself in the same reply (the assistant's
        own turn): a queued notice would reach a channel that cannot push only with the next message,
        as an answer to whatever the customer says then."""
        if source not in ("customer", "agent", "automatic"):
            raise InvalidInput(f"unknown escalation source {source!r}")
        reason = (reason or "").strip()[:500] or "申请升级"
        canonical = ticket_numbers.find(number or "")
        if canonical is None:
            raise NotFound(number)
        now = self.clock()
        try:
            with self.db.transaction() as session:
                row, created = self.request_in(session, canonical, source, requested_by, reason, now, notify)
                return Escalation.from_row(row), created
        except Conflict as raced:  # a concurrent request for the same ticket committed first
            with self.db.transaction() as session:
                ticket = session.execute(sa.select(TicketRow).where(TicketRow.number == canonical)).scalar_one()
                pending = self._pending_of(session, ticket)
                if pending is None:  # and was decided in the meantime
                    raise WrongState(f"escalation of {ticket.number} was just decided") from raced
                return Escalation.from_row(pending), False

    def request_in(
        self, session: Session, number: str, source: str, requested_by: str, reason: str, now: datetime,
        notify: bool = True,
    ) -> Tuple[EscalationRow, bool]:
        """`request` inside the caller's transaction (one that escalates several tickets at once
        commits all of them or none); the caller checked `source` and canonicalised `number`."""
        ticket = find_row(session, number)
        pending = self._pending_of(session, ticket)
        if pending is not None:
            return pending, False
        if not Status(ticket.status).is_open:
            raise WrongState(f"ticket {ticket.number} is {ticket.status}")
        row = EscalationRow(
            ticket=ticket, source=source, requested_by=requested_by[:64], reason=reason, status="pending",
            requested_at=now,
        )
        session.add(row)
        add_event(ticket, now, requested_by[:64], "escalation_requested", f"（{source}）{reason}")
        feed_event(session, now, "escalation_requested", requested_by, ticket.number)
        if notify:
            notice(session, _customer_of(ticket), ESCALATION_REQUESTED_TEXT.format(number=ticket.number), (), now)
        session.flush()
        return row, True

    def pending(self, viewer: StaffMember) -> List[Escalation]:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(EscalationRow).where(EscalationRow.status == "pending").order_by(EscalationRow.requested_at)
            ).scalars().all()
            return [Escalation.from_row(r) for r in rows]

    def accept(self, viewer: StaffMember, escalation_id: int, handler: str, reason: str) -> Escalation:
        """The ticket goes one level up: severity raised one step, deadlines recomputed, a handler named."""
        reason = (reason or "").strip()[:500]
        if not reason:
            raise InvalidInput("accepting needs a reason")
        with self.db.transaction() as session:
            row = self._decidable(session, viewer, escalation_id)
            named = session.execute(
                sa.select(AgentRow).where(AgentRow.username == (handler or ""), AgentRow.active.is_(True))
            ).scalar_one_or_none()
            if named is None:
                raise InvalidInput(f"no such handler: {handler!r}")
            now = self.clock()
            ticket = session.execute(
                sa.select(TicketRow).where(TicketRow.id == row.ticket_id).with_for_update()
            ).scalar_one()
            if not Status(ticket.status).is_open:
                raise WrongState(f"ticket {ticket.number} is {ticket.status}: decline the request instead")
            row.status, row.decided_by, row.decided_at = "accepted", viewer.username, now
            row.decision_reason, row.handler = reason, named.username
            ticket.escalation_level = (ticket.escalation_level or 0) + 1
            ticket.handler = named.username
            raise_severity_row(
                ticket, Assessment(_NEXT[Severity(ticket.severity)], f"投诉升级：{reason}"), now, actor=viewer.username
            )
            add_event(
                ticket, now, viewer.username, "escalated",
                f"升级至第{ticket.escalation_level}级，处理人 {named.username}，原因：{reason}；责任人仍为 {ticket.responsible or '-'}",
            )
            feed_event(session, now, "escalation_accepted", viewer.username, ticket.number, _live_session(session, ticket))
            notice(
                session, _customer_of(ticket),
                ESCALATION_ACCEPTED_TEXT.format(number=ticket.number, handler=named.display_name, due=beijing_time(ticket.resolve_due)),
                (), now,
            )
            session.flush()
            return Escalation.from_row(row)

    def decline(self, viewer: StaffMember, escalation_id: int, reason: str) -> Escalation:
        reason = (reason or "").strip()[:500]
        if not reason:
            raise InvalidInput("declining needs a reason")
        with self.db.transaction() as session:
            row = self._decidable(session, viewer, escalation_id)
            now = self.clock()
            row.status, row.decided_by, row.decided_at, row.decision_reason = "declined", viewer.username, now, reason
            add_event(row.ticket, now, viewer.username, "escalation_declined", reason)
            feed_event(
                session, now, "escalation_declined", viewer.username, row.ticket.number, _live_session(session, row.ticket)
            )
            notice(session, _customer_of(row.ticket), ESCALATION_DECLINED_TEXT.format(number=row.ticket.number, reason=reason), (), now)
            session.flush()
            return Escalation.from_row(row)

    @staticmethod
    def _pending_of(session: Session, ticket: TicketRow) -> Optional[EscalationRow]:
        return session.execute(
            sa.select(EscalationRow).where(EscalationRow.ticket_id == ticket.id, EscalationRow.status == "pending")
        ).scalar_one_or_none()

    @staticmethod
    def _decidable(session: Session, viewer: StaffMember, escalation_id: int) -> EscalationRow:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        if not isinstance(escalation_id, int) or not 0 < escalation_id < 2**63:
            raise NotFound(f"escalation {escalation_id}")
        row = session.execute(
            sa.select(EscalationRow).where(EscalationRow.id == escalation_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"escalation {escalation_id}")
        if row.status != "pending":
            raise WrongState(f"escalation {escalation_id} is already {row.status}")
        return row
