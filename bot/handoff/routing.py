"""The customer's side of a handoff: asking for a person, talking while waiting or in a chat,
leaving again, and the sweep that keeps nobody stuck with a silent bot.

A request puts the customer through to their responsible agent when that agent is online, queues
them otherwise, and outside working hours (or with nobody online) promises a call-back.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta
from statistics import median
from typing import Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.categories import Category
from bot.errors import Conflict
from bot.handoff._rows import SYSTEM, Part, _message, logger
from bot.handoff.model import (
    QUEUED,
    WITH_HUMAN,
    GateState,
    HandoffSession,
    Outcome,
    Placement,
    Routing,
    SessionStatus,
)
from bot.handoff.mailbox import unclaimed
from bot.handoff.texts import ACCEPTED_TEXT, REQUEUED_TEXT, UNAVAILABLE_TEXT, is_cancel, is_leave
from bot.severity import Severity
from bot.storage.models import AgentRow, HandoffMessageRow, HandoffSessionRow, TicketEventRow, TicketRow
from bot.text import MAX_MESSAGE_CHARS, beijing_time
from bot.tickets import Customer, Ticket


@functools.lru_cache(maxsize=1)
def _gate_statement() -> sa.sql.Select:
    """The gate's read, built once: a statement built per message made SQLAlchemy derive its cache
    key again each time (walking the whole expression), a third of the gate's CPU under load."""
    channel, user_id = sa.bindparam("channel"), sa.bindparam("user_id")
    pending = sa.select(HandoffMessageRow.id).where(
        HandoffMessageRow.channel == channel,
        HandoffMessageRow.channel_user_id == user_id,
        HandoffMessageRow.to_customer.is_(True),
        HandoffMessageRow.delivered_at.is_(None),
        HandoffMessageRow.failed_at.is_(None),
        unclaimed(sa.bindparam("now", type_=HandoffMessageRow.claimed_until.type)),
    ).exists()
    with_human = sa.select(HandoffSessionRow.id).where(
        HandoffSessionRow.channel == channel,
        HandoffSessionRow.channel_user_id == user_id,
        HandoffSessionRow.status.in_(WITH_HUMAN),
    ).exists()
    return sa.select(pending, with_human)

DEFAULT_WAIT_PER_CUSTOMER = timedelta(minutes=2)
CALLBACK_WITHIN = timedelta(hours=2)
HISTORY_LIMIT = 40


class CustomerRouting(Part):
    """Requests for a person and the customer's messages during a handoff."""

    def request(
        self,
        customer: Customer,
        reason: str,
        ticket: Optional[Ticket] = None,
        history: Iterable[Tuple[str, str]] = (),
    ) -> Placement:
        """Put the customer through to a person, or queue them, or promise a call-back."""
        history = list(history)
        try:
            return self._request(customer, reason, ticket, history)
        except Conflict:
            # A concurrent request of the same customer opened the session first: that one stands.
            return self._request(customer, reason, ticket, history)

    def _request(
        self, customer: Customer, reason: str, ticket: Optional[Ticket], history: List[Tuple[str, str]]
    ) -> Placement:
        now = self.clock()
        reason = (reason or "客户请求人工服务").strip()[:255]
        with self.db.transaction() as session:
            existing = self._open_row(session, customer, QUEUED + (SessionStatus.ACTIVE.value,))
            if existing is not None and existing.status != SessionStatus.CALLBACK.value:
                return self._placement(session, existing, Outcome.ALREADY, now)
            tickets = self._customer_tickets(session, customer)
            primary = ticket.number if ticket else (tickets[0].number if tickets else None)
            owner = next((t.responsible for t in tickets if t.responsible), None)
            severity = max((Severity(t.severity) for t in tickets), key=lambda s: s.rank, default=Severity.GENERAL)
            due = min((t.response_due for t in tickets), default=now + timedelta(hours=24))
            category = Category(tickets[0].category) if tickets else None
            online = self._online(session, now)
            open_now = self.hours.is_open(now) and bool(online)

            if existing is not None:  # a call-back request is pending: this is a new try
                row = existing
                if not open_now:
                    return self._placement(session, row, Outcome.UNAVAILABLE, now)
                row.status = SessionStatus.WAITING.value
                row.callback_due = None
                row.updated_at = now
                self._event(session, row.id, "requested", customer.channel, reason)
            else:
                row = HandoffSessionRow(
                    channel=customer.channel,
                    channel_user_id=customer.user_id,
                    status=SessionStatus.WAITING.value if open_now else SessionStatus.CALLBACK.value,
                    reason=reason,
                    ticket_number=primary,
                    category=category.value if category else None,
                    severity=severity.value,
                    requested_at=now,
                    due=due,
                    owner=owner,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                for sender, text in history[-HISTORY_LIMIT:]:
                    if text:
                        session.add(
                            _message(row, at=now, sender=sender, text=text[:MAX_MESSAGE_CHARS], to_customer=False)
                        )
                self._event(session, row.id, "requested", "customer", reason)

            if not open_now:
                opening = self.hours.next_opening(now)
                row.callback_due = min(due, opening + CALLBACK_WITHIN)
                self._note_on_tickets(session, tickets, now, "callback_requested", f"待回电，最迟 {row.callback_due:%Y-%m-%d %H:%M} UTC")
                session.flush()
                logger.info("handoff session %s: nobody available, call-back by %s", row.id, row.callback_due)
                result = self._placement(session, row, Outcome.UNAVAILABLE, now)
            elif owner is not None and owner in online:
                row.status = SessionStatus.ACTIVE.value
                row.agent = owner
                row.accepted_at = now
                name = online[owner]
                self._system_message(session, row, ACCEPTED_TEXT.format(name=name), now)
                self._event(session, row.id, "accepted", SYSTEM, f"routed to responsible agent {owner}")
                session.flush()
                result = self._placement(session, row, Outcome.ROUTED, now, agent_name=name)
            else:
                if owner is not None:
                    self._event(session, row.id, "owner_notified", SYSTEM, owner)
                session.flush()
                result = self._placement(session, row, Outcome.QUEUED, now)
        self._changed()
        return result

    def session_for(self, customer: Customer) -> Optional[HandoffSession]:
        """The customer's open session (waiting or with an agent), if any."""
        with self.db.transaction() as session:
            row = self._open_row(session, customer, WITH_HUMAN)
            return None if row is None else self._snapshot(session, row, attention=False)

    def pending_for(self, customer: Customer) -> Optional[HandoffSession]:
        """The customer's request for a person still open: waiting, queued for a call-back, or with an agent."""
        with self.db.transaction() as session:
            row = self._open_row(session, customer, QUEUED + (SessionStatus.ACTIVE.value,))
            return None if row is None else self._snapshot(session, row, attention=False)

    def gate_state(self, customer: Customer) -> GateState:
        """Whether agent messages wait for the customer and whether they are with a person, in one
        read that takes no lock: most messages find neither, and the gate then hands them to the bot
        without a write transaction (`customer_message` and the deliveries are for the rest)."""
        pending, with_human = self.db.read_row(  # one statement, one round trip
            _gate_statement(), {"channel": customer.channel, "user_id": customer.user_id, "now": self.clock()}
        )
        return GateState(pending=bool(pending), with_human=bool(with_human))

    def customer_message(self, customer: Customer, text: str) -> Optional[Routing]:
        """Take a customer message during a handoff; None when the bot should handle it.

        A waiting customer leaves the queue with 取消 and the like; a customer talking to an agent
        leaves with an explicit 返回机器人 (so a silent agent can never trap them).
        """
        now = self.clock()
        with self.db.transaction() as session:
            row = self._open_row(session, customer, WITH_HUMAN)
            if row is None:
                return None
            text = (text or "").strip()
            waiting = row.status == SessionStatus.WAITING.value
            if waiting and is_cancel(text) or not waiting and is_leave(text):
                row.status = SessionStatus.CANCELLED.value
                row.ended_at = now
                row.updated_at = now
                row.transfer_to = row.transfer_reason = None
                self._event(session, row.id, "cancelled", "customer", "")
                detail = "客户取消排队" if waiting else "客户结束人工服务，返回智能助手"
                session.add(_message(row, at=now, sender="system", text=detail, to_customer=False))
                self._note_on_tickets(session, self._customer_tickets(session, customer), now, "human_cancelled", detail)
                session.flush()
                return self._routing(session, row, cancelled=True)
            # Button payloads (e.g. a stale 取消等待 pressed during the chat) are not the customer's words.
            if text and len(text) <= MAX_MESSAGE_CHARS and not text.startswith("/"):
                message = _message(row, at=now, sender="customer", text=text, to_customer=False)
                session.add(message)
                row.updated_at = now
                session.flush()
                self._event(session, row.id, "message", "customer", str(message.id))
            routing = self._routing(session, row)
        self._changed()
        return routing

    def withdraw_callback(self, customer: Customer) -> Optional[HandoffSession]:
        """The customer no longer wants the call-back they asked for while nobody was online
        ("不要人工了 不用给我回电话"): the request leaves the queue, and its tickets say so. The
        session withdrawn, or None when no call-back was waiting (a waiting customer cancels through
        the gate, `customer_message`)."""
        now = self.clock()
        with self.db.transaction() as session:
            row = self._open_row(session, customer, (SessionStatus.CALLBACK.value,))
            if row is None:
                return None
            row.status = SessionStatus.CANCELLED.value
            row.ended_at = now
            row.updated_at = now
            detail = "客户不再需要人工回电"
            self._event(session, row.id, "cancelled", "customer", "")
            session.add(_message(row, at=now, sender="system", text=detail, to_customer=False))
            self._note_on_tickets(session, self._customer_tickets(session, customer), now, "human_cancelled", detail)
            session.flush()
            withdrawn = self._snapshot(session, row, attention=False)
        self._changed()
        return withdrawn

    def _routing(self, session: Session, row: HandoffSessionRow, cancelled: bool = False) -> Routing:
        position, wait = self._position(session, row)
        return Routing(self._snapshot(session, row, attention=False), cancelled=cancelled, position=position, estimated_wait=wait)

    def available_now(self) -> bool:
        """Whether a request for a human would reach someone now (working hours and an agent online)."""
        now = self.clock()
        if not self.hours.is_open(now):
            return False
        with self.db.transaction() as session:
            return bool(self._online(session, now))

    def sweep(self, offline_grace: timedelta = timedelta(minutes=2)) -> int:
        """Keep nobody stuck with a silent bot; returns how many sessions moved.

        * A session whose agent went offline (closed the console without handing back) goes back to
          the queue, keeping its owner.
        * Waiting sessions when nobody can take them (everyone offline, or working hours over) become
          call-back requests, and the customer is told the bot answers again meanwhile.
        """
        now = self.clock()
        moved = 0
        with self.db.transaction() as session:
            online = self._online(session, now)
            stale = session.execute(
                sa.select(HandoffSessionRow)
                .outerjoin(AgentRow, AgentRow.username == HandoffSessionRow.agent)
                .where(
                    HandoffSessionRow.status == SessionStatus.ACTIVE.value,
                    sa.or_(AgentRow.online_until.is_(None), AgentRow.online_until < now - offline_grace),
                )
                .with_for_update(of=HandoffSessionRow)
            ).scalars().all()
            for row in stale:
                self._event(session, row.id, "requeued", SYSTEM, f"agent {row.agent} offline")
                row.status = SessionStatus.WAITING.value
                row.agent = None
                row.transfer_to = row.transfer_reason = None
                row.updated_at = now
                self._system_message(session, row, REQUEUED_TEXT, now)
                moved += 1
            if not (online and self.hours.is_open(now)):
                waiting = session.execute(
                    sa.select(HandoffSessionRow)
                    .where(HandoffSessionRow.status == SessionStatus.WAITING.value)
                    .with_for_update()
                ).scalars().all()
                opening = self.hours.next_opening(now)
                for row in waiting:
                    row.status = SessionStatus.CALLBACK.value
                    row.callback_due = min(row.due, opening + CALLBACK_WITHIN)
                    row.updated_at = now
                    self._event(session, row.id, "to_callback", SYSTEM, "nobody available")
                    self._system_message(session, row, UNAVAILABLE_TEXT.format(due=beijing_time(row.callback_due)), now)
                    tickets = self._customer_tickets(session, Customer(row.channel, row.channel_user_id))
                    self._note_on_tickets(session, tickets, now, "callback_requested", "无人在线，转为待回电")
                    moved += 1
        if moved:
            logger.info("handoff sweep moved %d session(s)", moved)
            self._changed()
        return moved

    def _note_on_tickets(
        self, session: Session, tickets: Sequence[TicketRow], now: datetime, kind: str, detail: str, actor: str = SYSTEM
    ) -> None:
        for ticket in tickets:
            ticket.events.append(TicketEventRow(at=now, actor=actor, kind=kind, detail=detail))
            ticket.updated_at = now

    def _position(self, session: Session, row: HandoffSessionRow) -> Tuple[int, timedelta]:
        """1-based place in the queue and an estimate of the wait (0 when not waiting)."""
        if row.status != SessionStatus.WAITING.value:
            return 0, timedelta(0)
        ahead = session.execute(
            sa.select(sa.func.count(HandoffSessionRow.id)).where(
                HandoffSessionRow.status == SessionStatus.WAITING.value,
                sa.or_(
                    HandoffSessionRow.due < row.due,
                    sa.and_(HandoffSessionRow.due == row.due, HandoffSessionRow.id < row.id),
                ),
            )
        ).scalar_one()
        position = ahead + 1
        recent = session.execute(
            sa.select(HandoffSessionRow.requested_at, HandoffSessionRow.accepted_at)
            .where(HandoffSessionRow.accepted_at.isnot(None))
            .order_by(HandoffSessionRow.accepted_at.desc())
            .limit(20)
        ).all()
        per_customer = (
            timedelta(seconds=median((a - r).total_seconds() for r, a in recent)) if recent else DEFAULT_WAIT_PER_CUSTOMER
        )
        per_customer = max(timedelta(minutes=1), min(per_customer, timedelta(minutes=30)))
        agents = max(1, len(self._online(session, self.clock())))
        return position, per_customer * math.ceil(position / agents)

    def _placement(
        self, session: Session, row: HandoffSessionRow, outcome: Outcome, now: datetime, agent_name: Optional[str] = None
    ) -> Placement:
        position, wait = self._position(session, row)
        if outcome is Outcome.ALREADY and row.status == SessionStatus.ACTIVE.value:
            agent_name = self._names(session, [row.agent]).get(row.agent, row.agent)
        return Placement(
            outcome=outcome,
            session=self._snapshot(session, row, attention=False),
            position=position,
            estimated_wait=wait,
            agent_name=agent_name,
            callback_due=row.callback_due,
            hours=self.hours.describe(),
        )
