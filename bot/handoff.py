"""Human handoff under first-contact responsibility (首问负责制).

A customer's conversation goes to a human as a *handoff session*:

    waiting ──accept──> active ──release──> released   (the bot answers again)
       │  ▲                │ └──close────> closed
       │  └─(callback)     └─transfer (accepted by the receiver) / reassign (supervisor)
       └──customer cancels──> cancelled

* ``callback``: nobody was online (or outside working hours); the request waits in the queue with
  a call-back deadline while the bot keeps answering the customer.
* The first agent who accepts becomes the session's **owner** and the responsible person of the
  customer's open tickets that have none. Accepting is one conditional UPDATE, so of many agents
  accepting at once exactly one wins; the others get `Taken` naming the holder.
* A customer whose open ticket already has a responsible agent is routed to that agent when online;
  otherwise the session waits marked with its owner. Another agent may chat meanwhile, but
  responsibility moves only by an accepted transfer or a supervisor's reassignment, always written
  in the ticket history with who, when and why.

Every change appends a row to ``handoff_events``: the feed consoles follow (across processes).
Messages for the customer wait in ``handoff_messages`` until a channel delivers them: a process
claims one for a while (a lease), sends it, and marks it delivered once the channel accepted it; a
claim that runs out (its process died) offers the message again. At-least-once: a customer may get a
message twice, never not at all, and the message id lets a client drop the repeat.
"""

from __future__ import annotations

import enum
import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from statistics import median
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import ticket_numbers
from bot.categories import Category
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, Taken, WrongState
from bot.notices import notice
from bot.severity import Severity
from bot.staff import StaffMember, StaffService
from bot.storage.database import Database
from bot.storage.models import (
    AgentRow,
    HandoffEventRow,
    HandoffMessageRow,
    HandoffSessionRow,
    TicketEventRow,
    TicketRow,
)
from bot.text import MAX_MESSAGE_CHARS, beijing_time, mask_personal_data
from bot.ticket_numbers import BEIJING
from bot.tickets import OPEN_STATUSES, PROGRESS_INTERVAL, Customer, Status, Ticket, assign_row, move_row

logger = logging.getLogger(__name__)

SYSTEM = "system"
DEFAULT_WAIT_PER_CUSTOMER = timedelta(minutes=2)
CALLBACK_WITHIN = timedelta(hours=2)
# How long a process holds a message it is sending; above the Bot API's 40 s timeout, so a slow send
# is not offered to a second process meanwhile.
DELIVERY_LEASE = timedelta(seconds=60)
HISTORY_LIMIT = 40


class SessionStatus(str, enum.Enum):
    WAITING = "waiting"
    CALLBACK = "callback"
    ACTIVE = "active"
    RELEASED = "released"
    CLOSED = "closed"
    CANCELLED = "cancelled"


QUEUED = (SessionStatus.WAITING.value, SessionStatus.CALLBACK.value)
# Sessions in which the bot stays silent and customer messages go to a person.
WITH_HUMAN = (SessionStatus.WAITING.value, SessionStatus.ACTIVE.value)


class Outcome(str, enum.Enum):
    QUEUED = "queued"  # waiting for the next agent
    ROUTED = "routed"  # straight to the responsible agent, who is online
    UNAVAILABLE = "unavailable"  # nobody online or outside working hours: call-back promised
    ALREADY = "already"  # the customer is already waiting or talking to someone


# -- what the customer is told by the domain itself (agent actions reach them through channels) --

ACCEPTED_TEXT = "客服{name}已接入，正在为您服务。"
TRANSFERRED_TEXT = "已为您转接客服{name}，请稍候。"
RELEASED_TEXT = "人工服务已结束，接下来由智能助手继续为您服务。如需再次联系人工客服，请发送“转人工”。"
CLOSED_TEXT = "本次人工服务已结束，感谢您的耐心。如还有其他问题，随时给我发消息。"
CANCELLED_TEXT = "已取消排队，智能助手继续为您服务。"

REQUEUED_TEXT = "刚才接待您的客服暂时离线，已为您重新排队，其他客服会尽快接入。"
UNAVAILABLE_TEXT = "目前没有人工客服在线，您的请求已登记，客服会在{due}前联系您。在此期间智能助手继续为您服务，直接发消息即可。"
WAITING_TEXT = "您正在排队等待人工客服，目前排在第{position}位，预计等待{wait}。您的留言客服接入后都能看到。发送“取消”可返回智能助手。"
IN_CHAT_TEXT = "客服已经在为您服务了，直接发消息即可。如需回到智能助手，请发送“返回机器人”。"

CANNED_REPLIES = (
    ("问候", "您好，我是负责您这次问题的客服，请问有什么可以帮您？"),
    ("核实信息", "为了帮您核实，请提供办理业务的手机号码，以及问题开始出现的大致时间。"),
    ("已记录", "您反映的情况我已经详细记录，正在联系相关部门处理，请您耐心等待。"),
    ("进度说明", "您的工单正在处理中，我会在24小时内把最新进展告诉您。"),
    ("致歉", "给您带来不便，非常抱歉，我们会尽快为您解决。"),
    ("结束", "请问还有其他可以帮您的吗？如没有，本次服务就先到这里，感谢您的耐心。"),
)

_CANCEL = re.compile(
    r"^(?:/cancel_handoff|取消|取消排队|取消等待|取消转人工|不等了|算了不等了|算了|不用了|不用人工了|"
    r"退出排队|返回机器人|回到机器人|返回智能助手|我不等了)$"
)
_PUNCTUATION = re.compile(r"[\s。，！？!?,.~～…]+")


_LEAVE = re.compile(r"^(?:返回机器人|回到机器人|返回智能助手|转回机器人|结束人工|结束人工服务|退出人工|退出人工服务)$")


def is_cancel(text: str) -> bool:
    """Whether a waiting customer's message asks to leave the queue."""
    return bool(_CANCEL.match(_PUNCTUATION.sub("", text or "")))


def is_leave(text: str) -> bool:
    """Whether a customer talking to an agent explicitly asks to go back to the bot."""
    return bool(_LEAVE.match(_PUNCTUATION.sub("", text or "")))


@dataclass(frozen=True)
class WorkingHours:
    """Hours (Beijing time) in which agents take chats; `always` when not configured."""

    start: Optional[time] = None
    end: Optional[time] = None

    @classmethod
    def parse(cls, spec: Optional[str]) -> "WorkingHours":
        spec = (spec or "").strip()
        if not spec or spec.lower() in ("always", "24h", "00:00-24:00"):
            return cls()
        match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", spec)
        if not match:
            raise InvalidInput(f"working hours must look like 09:00-21:00, not {spec!r}")
        h1, m1, h2, m2 = (int(x) for x in match.groups())
        if not (0 <= h1 < 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
            raise InvalidInput(f"bad working hours {spec!r}")
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        return cls(time(h1, m1), end)

    @property
    def always(self) -> bool:
        return self.start is None

    def is_open(self, moment: datetime) -> bool:
        if self.always:
            return True
        local = moment.astimezone(BEIJING).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # overnight shift

    def next_opening(self, moment: datetime) -> datetime:
        if self.is_open(moment):
            return moment
        local = moment.astimezone(BEIJING)
        opening = local.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        if opening <= local:
            opening += timedelta(days=1)
        return opening.astimezone(timezone.utc)

    def describe(self) -> str:
        return "全天" if self.always else f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class HandoffSession:
    id: int
    customer: Customer
    status: SessionStatus
    reason: str
    ticket_number: Optional[str]
    category: Optional[Category]
    severity: Severity
    requested_at: datetime
    due: datetime
    accepted_at: Optional[datetime]
    ended_at: Optional[datetime]
    owner: Optional[str]
    agent: Optional[str]
    transfer_to: Optional[str]
    transfer_reason: Optional[str]
    escalated_at: Optional[datetime]
    callback_due: Optional[datetime]
    names: Dict[str, str] = field(default_factory=dict, compare=False)
    ticket_numbers: Tuple[str, ...] = ()

    def name_of(self, username: Optional[str]) -> Optional[str]:
        return None if username is None else self.names.get(username, username)

    @property
    def with_human(self) -> bool:
        return self.status.value in WITH_HUMAN

    @classmethod
    def from_row(cls, row: HandoffSessionRow, names: Dict[str, str], tickets: Sequence[str]) -> "HandoffSession":
        return cls(
            id=row.id,
            customer=Customer(row.channel, row.channel_user_id),
            status=SessionStatus(row.status),
            reason=row.reason,
            ticket_number=row.ticket_number,
            category=Category(row.category) if row.category else None,
            severity=Severity(row.severity),
            requested_at=row.requested_at,
            due=row.due,
            accepted_at=row.accepted_at,
            ended_at=row.ended_at,
            owner=row.owner,
            agent=row.agent,
            transfer_to=row.transfer_to,
            transfer_reason=row.transfer_reason,
            escalated_at=row.escalated_at,
            callback_due=row.callback_due,
            names=names,
            ticket_numbers=tuple(tickets),
        )


@dataclass(frozen=True)
class Message:
    id: int
    session_id: int
    at: datetime
    sender: str  # customer | bot | agent | system
    agent: Optional[str]
    text: str
    customer: Optional[Customer] = None
    agent_name: Optional[str] = None
    failed: bool = False
    buttons: Tuple[Dict[str, str], ...] = ()

    @classmethod
    def from_row(
        cls, row: HandoffMessageRow, customer: Optional[Customer] = None, agent_name: Optional[str] = None
    ) -> "Message":
        buttons = tuple(json.loads(row.buttons)) if row.buttons else ()
        return cls(
            row.id, row.session_id, row.at, row.sender, row.agent, row.text, customer, agent_name,
            row.failed_at is not None, buttons,
        )


@dataclass(frozen=True)
class FeedEvent:
    id: int
    session_id: Optional[int]
    at: datetime
    kind: str


@dataclass(frozen=True)
class Placement:
    """Where a request for a human ended up, and what to tell the customer."""

    outcome: Outcome
    session: HandoffSession
    position: int = 0
    estimated_wait: timedelta = timedelta(0)
    agent_name: Optional[str] = None
    callback_due: Optional[datetime] = None
    hours: str = "全天"


@dataclass(frozen=True)
class Routing:
    """What became of a customer message that arrived during a handoff."""

    session: HandoffSession
    cancelled: bool = False
    position: int = 0
    estimated_wait: timedelta = timedelta(0)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _unclaimed(now: datetime) -> sa.sql.ColumnElement:
    """Held by no process: never claimed, given back, or the claim ran out (its process died)."""
    return sa.or_(HandoffMessageRow.claimed_until.is_(None), HandoffMessageRow.claimed_until < now)


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("empty message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"message longer than {MAX_MESSAGE_CHARS} characters")
    return text


class HandoffService:
    def __init__(
        self,
        db: Database,
        staff: StaffService,
        hours: WorkingHours = WorkingHours(),
        clock: Callable[[], datetime] = _utcnow,
        on_change: Optional[Callable[[], None]] = None,
    ) -> None:
        self.db = db
        self.staff = staff
        self.hours = hours
        self.clock = clock
        # Called after each committed change (the in-process wake-up of long polls and deliveries).
        self.on_change = on_change

    # -- customers ------------------------------------------------------------------------

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
            return None if row is None else self._snapshot(session, row)

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

    def _routing(self, session: Session, row: HandoffSessionRow, cancelled: bool = False) -> Routing:
        position, wait = self._position(session, row)
        return Routing(self._snapshot(session, row), cancelled=cancelled, position=position, estimated_wait=wait)

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
                    _unclaimed(self.clock()),
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

    def notify(self, customer: Customer, text: str, buttons: Sequence[Dict[str, str]] = ()) -> None:
        """A notice to the customer outside any live chat (a ticket's result, a survey, an escalation
        decision), delivered through their own channel like an agent's message."""
        with self.db.transaction() as session:
            notice(session, customer, text, buttons, self.clock())
        self._changed()

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
                    _unclaimed(now),
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

    # -- agents: reading ------------------------------------------------------------------

    def queue(self, viewer: StaffMember) -> List[HandoffSession]:
        """Waiting sessions and call-back requests, most urgent deadline first."""
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(HandoffSessionRow)
                .where(HandoffSessionRow.status.in_(QUEUED))
                .order_by(HandoffSessionRow.due, HandoffSessionRow.requested_at, HandoffSessionRow.id)
            ).scalars().all()
            return [self._snapshot(session, row) for row in rows]

    def sessions(self, viewer: StaffMember, everyone: bool = False) -> List[HandoffSession]:
        """Active sessions the viewer holds, owns or is offered; every active one for supervisors."""
        if everyone and not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        with self.db.transaction() as session:
            query = sa.select(HandoffSessionRow).where(HandoffSessionRow.status == SessionStatus.ACTIVE.value)
            if not everyone:
                me = viewer.username
                query = query.where(
                    sa.or_(HandoffSessionRow.agent == me, HandoffSessionRow.owner == me, HandoffSessionRow.transfer_to == me)
                )
            rows = session.execute(query.order_by(HandoffSessionRow.due, HandoffSessionRow.id)).scalars().all()
            return [self._snapshot(session, row) for row in rows]

    def detail(self, viewer: StaffMember, session_id: int) -> Tuple[HandoffSession, List[Ticket]]:
        with self.db.transaction() as session:
            row = self._session_row(session, session_id, lock=False)
            self._require_reader(viewer, row)
            tickets = self._customer_tickets(session, Customer(row.channel, row.channel_user_id), open_only=False, limit=10)
            carried = [Ticket.from_row(t) for t in tickets if t.status in _OPEN or t.number == row.ticket_number]
            return self._snapshot(session, row), carried

    def transcript(self, viewer: StaffMember, session_id: int) -> List[Message]:
        with self.db.transaction() as session:
            row = self._session_row(session, session_id, lock=False)
            self._require_reader(viewer, row)
            earlier = self._earlier_sessions(session, row)
            messages = session.execute(
                sa.select(HandoffMessageRow, AgentRow.display_name)
                .outerjoin(AgentRow, AgentRow.username == HandoffMessageRow.agent)
                .where(HandoffMessageRow.session_id.in_(earlier + [row.id]))
                .order_by(HandoffMessageRow.id)
            ).all()
            customer = Customer(row.channel, row.channel_user_id)
            return [Message.from_row(m, customer, name) for m, name in messages]

    def progress_due(self, viewer: StaffMember) -> List[Ticket]:
        """Open tickets the viewer is responsible for, by when the next progress update is owed."""
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(TicketRow)
                .where(
                    TicketRow.responsible == viewer.username,
                    TicketRow.status.in_(_OPEN),
                    TicketRow.progress_due.isnot(None),
                )
                .order_by(TicketRow.progress_due)
                .limit(100)
            ).scalars()
            return [Ticket.from_row(row) for row in rows]

    def latest_event_id(self) -> int:
        with self.db.transaction() as session:
            return session.execute(sa.select(sa.func.max(HandoffEventRow.id))).scalar_one_or_none() or 0

    def events_after(self, cursor: int, limit: int = 200) -> Tuple[int, List[FeedEvent]]:
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(HandoffEventRow).where(HandoffEventRow.id > cursor).order_by(HandoffEventRow.id).limit(limit)
            ).scalars().all()
            events = [FeedEvent(r.id, r.session_id, r.at, r.kind) for r in rows]
            if events:
                return events[-1].id, events
            # Nothing new: the newest id (lower than `cursor` only if the store was reset).
            return session.execute(sa.select(sa.func.max(HandoffEventRow.id))).scalar_one_or_none() or 0, []

    # -- agents: acting -------------------------------------------------------------------

    def accept(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        """Take a waiting session. Exactly one of concurrent callers wins; the others get Taken."""
        if not isinstance(session_id, int) or not 0 < session_id < 2**63:
            raise NotFound(f"session {session_id}")
        now = self.clock()
        with self.db.transaction() as session:
            won = session.execute(
                sa.update(HandoffSessionRow)
                .where(HandoffSessionRow.id == session_id, HandoffSessionRow.status.in_(QUEUED))
                .values(
                    status=SessionStatus.ACTIVE.value,
                    agent=viewer.username,
                    accepted_at=now,
                    owner=sa.func.coalesce(HandoffSessionRow.owner, viewer.username),
                    callback_due=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            row = self._session_row(session, session_id)
            if not won:
                if row.status == SessionStatus.ACTIVE.value and row.agent:
                    raise Taken(row.agent, self._names(session, [row.agent]).get(row.agent, row.agent), row.owner)
                raise WrongState(f"session {session_id} is {row.status}, not waiting")
            session.refresh(row)
            customer = Customer(row.channel, row.channel_user_id)
            for ticket in self._customer_tickets(session, customer):
                if ticket.responsible is None:
                    assign_row(ticket, viewer.username, viewer.username, now, f"首问负责：接入人工会话 #{row.id}")
            self._system_message(session, row, ACCEPTED_TEXT.format(name=viewer.display_name), now)
            owner_note = "" if row.owner == viewer.username else f"owner stays {row.owner}"
            self._event(session, row.id, "accepted", viewer.username, owner_note)
            session.flush()
            snapshot = self._snapshot(session, row)
        logger.info("handoff session %s accepted by %s", session_id, viewer.username)
        self._changed()
        return snapshot

    def post(self, viewer: StaffMember, session_id: int, text: str) -> Message:
        """An agent's message to the customer (delivered through the customer's own channel)."""
        text = _clean_text(text)
        now = self.clock()
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            self._require_holder(viewer, row)
            message = _message(row, at=now, sender="agent", agent=viewer.username, text=text, to_customer=True)
            session.add(message)
            row.updated_at = now
            session.flush()
            self._event(session, row.id, "message", viewer.username, str(message.id))
            # Talking to the customer is the progress update the responsible person owes them.
            for ticket in self._customer_tickets(session, Customer(row.channel, row.channel_user_id)):
                if ticket.responsible == viewer.username:
                    if ticket.progress_due is None or ticket.progress_due < now + PROGRESS_INTERVAL - timedelta(hours=1):
                        ticket.events.append(
                            TicketEventRow(at=now, actor=viewer.username, kind="progress_update", detail="在线沟通进展")
                        )
                    ticket.progress_due = now + PROGRESS_INTERVAL
            result = Message.from_row(message, Customer(row.channel, row.channel_user_id), viewer.display_name)
        self._changed()
        return result

    def transfer(self, viewer: StaffMember, session_id: int, to: str, reason: str) -> HandoffSession:
        """Offer the session to another agent; responsibility moves only when they accept."""
        reason = (reason or "").strip()[:255] or "坐席转交"
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            self._require_holder(viewer, row)
            target = self._agent_row(session, to)
            if target.username == row.agent:
                raise InvalidInput("cannot transfer a session to its current agent")
            row.transfer_to = target.username
            row.transfer_reason = reason
            row.updated_at = self.clock()
            self._event(session, row.id, "transfer_requested", viewer.username, f"-> {target.username}: {reason}")
            snapshot = self._snapshot(session, row)
        self._changed()
        return snapshot

    def accept_transfer(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        now = self.clock()
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            if row.transfer_to != viewer.username or row.status != SessionStatus.ACTIVE.value:
                raise Forbidden("this session is not being transferred to you")
            why = f"转交：{row.agent} -> {viewer.username}，原因：{row.transfer_reason}"
            self._move_responsibility(session, row, viewer.username, viewer.username, now, why, "transferred")
            self._system_message(session, row, TRANSFERRED_TEXT.format(name=viewer.display_name), now)
            self._event(session, row.id, "transferred", viewer.username, why)
            snapshot = self._snapshot(session, row)
        self._changed()
        return snapshot

    def decline_transfer(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            if row.transfer_to != viewer.username:
                raise Forbidden("this session is not being transferred to you")
            row.transfer_to = row.transfer_reason = None
            row.updated_at = self.clock()
            self._event(session, row.id, "transfer_declined", viewer.username, "")
            snapshot = self._snapshot(session, row)
        self._changed()
        return snapshot

    def reassign(self, viewer: StaffMember, session_id: int, to: str, reason: str) -> HandoffSession:
        """A supervisor moves a session and its responsibility to another agent."""
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        reason = (reason or "").strip()[:255]
        if not reason:
            raise InvalidInput("a reassignment needs a reason")
        now = self.clock()
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            if row.status not in (SessionStatus.ACTIVE.value,) + QUEUED:
                raise WrongState(f"session {session_id} is {row.status}")
            target = self._agent_row(session, to)
            why = f"主管{viewer.username}重新指派：{row.owner or '-'} -> {target.username}，原因：{reason}"
            if row.status != SessionStatus.ACTIVE.value:
                row.status = SessionStatus.ACTIVE.value
                row.accepted_at = now
                row.callback_due = None
            self._move_responsibility(session, row, target.username, viewer.username, now, why, "reassigned")
            self._system_message(session, row, TRANSFERRED_TEXT.format(name=target.display_name), now)
            self._event(session, row.id, "reassigned", viewer.username, why)
            snapshot = self._snapshot(session, row)
        self._changed()
        return snapshot

    def release(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        """Hand the customer back to the bot."""
        return self._end(viewer, session_id, SessionStatus.RELEASED, RELEASED_TEXT, "released")

    def close(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        return self._end(viewer, session_id, SessionStatus.CLOSED, CLOSED_TEXT, "closed")

    def escalate(self, viewer: StaffMember, session_id: int, reason: str) -> HandoffSession:
        """Ask a supervisor to step in; the agent stays responsible and keeps the customer informed."""
        reason = (reason or "").strip()[:255]
        if not reason:
            raise InvalidInput("an escalation needs a reason")
        from bot.lifecycle import Escalations

        escalations = Escalations(self.db, self.clock)
        for attempt in range(2):
            now = self.clock()
            try:
                # One transaction: the session and every open ticket of the customer in the
                # supervisors' queue, or none of it (a failure part-way left a partial escalation).
                with self.db.transaction() as session:
                    row = self._session_row(session, session_id)
                    if row.status != SessionStatus.ACTIVE.value:
                        raise WrongState(f"session {row.id} is {row.status}, not active")
                    if not (viewer.is_supervisor or viewer.username in (row.agent, row.owner)):
                        raise Forbidden("only the agent, the responsible owner or a supervisor escalates")
                    row.escalated_at = row.escalated_at or now
                    row.updated_at = now
                    customer = Customer(row.channel, row.channel_user_id)
                    for ticket in self._customer_tickets(session, customer):
                        escalations.request_in(session, ticket.number, "agent", viewer.username, reason, now)
                    self._event(session, row.id, "escalated", viewer.username, reason)
                    snapshot = self._snapshot(session, row)
                break
            except Conflict:
                if attempt:  # a concurrent request for one of the tickets committed first: once more
                    raise
        self._changed()
        return snapshot

    def resolve_ticket(self, viewer: StaffMember, number: str, note: str) -> Ticket:
        """Mark a ticket resolved with a note: its responsible person, its chat's agent, or a supervisor."""
        note = (note or "").strip()
        if not note:
            raise InvalidInput("resolving needs a note")
        canonical = ticket_numbers.find(number)
        if canonical is None:
            raise NotFound(number)
        now = self.clock()
        with self.db.transaction() as session:
            ticket = session.execute(sa.select(TicketRow).where(TicketRow.number == canonical)).scalar_one_or_none()
            if ticket is None:
                raise NotFound(number)
            if not (viewer.is_supervisor or ticket.responsible == viewer.username):
                holding = session.execute(
                    sa.select(HandoffSessionRow.id).where(
                        HandoffSessionRow.channel == ticket.channel,
                        HandoffSessionRow.channel_user_id == ticket.channel_user_id,
                        HandoffSessionRow.status == SessionStatus.ACTIVE.value,
                        HandoffSessionRow.agent == viewer.username,
                    )
                ).first()
                if holding is None:
                    raise Forbidden("not your ticket")
            move_row(ticket, Status.RESOLVED, viewer.username, now, note[:2000])
            # Feed back: the result and the satisfaction survey, through the customer's own channel.
            from bot.lifecycle import send_result_and_survey

            send_result_and_survey(session, ticket, note[:2000], now)
            session_row = self._open_row(session, Customer(ticket.channel, ticket.channel_user_id), WITH_HUMAN)
            self._event(session, session_row.id if session_row else None, "resolved", viewer.username, ticket.number)
            session.flush()
            result = Ticket.from_row(ticket)
        self._changed()
        return result

    # -- helpers --------------------------------------------------------------------------

    def _end(self, viewer: StaffMember, session_id: int, status: SessionStatus, text: str, kind: str) -> HandoffSession:
        now = self.clock()
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            self._require_holder(viewer, row)
            self._system_message(session, row, text, now)
            row.status = status.value
            row.ended_at = now
            row.transfer_to = row.transfer_reason = None
            row.updated_at = now
            self._event(session, row.id, kind, viewer.username, "")
            snapshot = self._snapshot(session, row)
        self._changed()
        return snapshot

    def _move_responsibility(
        self, session: Session, row: HandoffSessionRow, to: str, actor: str, now: datetime, why: str, kind: str
    ) -> None:
        previous_owner = row.owner
        for ticket in self._customer_tickets(session, Customer(row.channel, row.channel_user_id)):
            if ticket.responsible in (None, previous_owner, row.agent) and ticket.responsible != to:
                assign_row(ticket, to, actor, now, why, kind)
        row.owner = to
        row.agent = to
        row.transfer_to = row.transfer_reason = None
        row.updated_at = now

    def _note_on_tickets(
        self, session: Session, tickets: Sequence[TicketRow], now: datetime, kind: str, detail: str, actor: str = SYSTEM
    ) -> None:
        for ticket in tickets:
            ticket.events.append(TicketEventRow(at=now, actor=actor, kind=kind, detail=detail))
            ticket.updated_at = now

    def _system_message(self, session: Session, row: HandoffSessionRow, text: str, now: datetime) -> None:
        session.add(_message(row, at=now, sender="system", text=text, to_customer=True))

    def _event(self, session: Session, session_id: Optional[int], kind: str, actor: str, detail: str) -> None:
        session.add(HandoffEventRow(session_id=session_id, at=self.clock(), kind=kind, actor=actor[:64], detail=detail))

    def _changed(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # a wake-up hook must never break the change that committed
                logger.exception("handoff change hook failed")

    @staticmethod
    def _open_row(session: Session, customer: Customer, statuses: Sequence[str]) -> Optional[HandoffSessionRow]:
        return session.execute(
            sa.select(HandoffSessionRow)
            .where(
                HandoffSessionRow.channel == customer.channel,
                HandoffSessionRow.channel_user_id == customer.user_id,
                HandoffSessionRow.status.in_(statuses),
            )
            .order_by(HandoffSessionRow.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    @staticmethod
    def _session_row(session: Session, session_id: int, lock: bool = True) -> HandoffSessionRow:
        """The session row; locked for the transaction when it is about to change (PostgreSQL
        serialises concurrent changes of one session on it; SQLite's BEGIN IMMEDIATE already does)."""
        if not isinstance(session_id, int) or not 0 < session_id < 2**63:
            raise NotFound(f"session {session_id}")
        query = sa.select(HandoffSessionRow).where(HandoffSessionRow.id == session_id)
        if lock:
            query = query.with_for_update()
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFound(f"session {session_id}")
        return row

    @staticmethod
    def _agent_row(session: Session, username: str) -> AgentRow:
        row = session.execute(
            sa.select(AgentRow).where(AgentRow.username == (username or ""), AgentRow.active.is_(True))
        ).scalar_one_or_none()
        if row is None:
            raise InvalidInput(f"no such agent: {username!r}")
        return row

    @staticmethod
    def _require_reader(viewer: StaffMember, row: HandoffSessionRow) -> None:
        # The responsible owner and an agent being offered the session may read; only the holder answers.
        if viewer.is_supervisor or viewer.username in (row.agent, row.transfer_to, row.owner):
            return
        raise Forbidden("you do not hold this session")

    @staticmethod
    def _require_holder(viewer: StaffMember, row: HandoffSessionRow) -> None:
        if row.status != SessionStatus.ACTIVE.value:
            raise WrongState(f"session {row.id} is {row.status}, not active")
        if viewer.is_supervisor or row.agent == viewer.username:
            return
        raise Forbidden("you do not hold this session")

    @staticmethod
    def _customer_tickets(
        session: Session, customer: Customer, open_only: bool = True, limit: int = 20
    ) -> List[TicketRow]:
        query = sa.select(TicketRow).where(
            TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id
        )
        if open_only:
            query = query.where(TicketRow.status.in_(_OPEN))
        return list(session.execute(query.order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(limit)).scalars())

    @staticmethod
    def _earlier_sessions(session: Session, row: HandoffSessionRow) -> List[int]:
        """Ids of the customer's previous sessions, so the agent sees the whole story (last five)."""
        ids = session.execute(
            sa.select(HandoffSessionRow.id)
            .where(
                HandoffSessionRow.channel == row.channel,
                HandoffSessionRow.channel_user_id == row.channel_user_id,
                HandoffSessionRow.id < row.id,
            )
            .order_by(HandoffSessionRow.id.desc())
            .limit(5)
        ).scalars().all()
        return sorted(ids)

    @staticmethod
    def _online(session: Session, now: datetime) -> Dict[str, str]:
        rows = session.execute(
            sa.select(AgentRow.username, AgentRow.display_name).where(AgentRow.active.is_(True), AgentRow.online_until > now)
        ).all()
        return {username: name for username, name in rows}

    @staticmethod
    def _names(session: Session, usernames: Iterable[Optional[str]]) -> Dict[str, str]:
        wanted = {u for u in usernames if u}
        if not wanted:
            return {}
        rows = session.execute(sa.select(AgentRow.username, AgentRow.display_name).where(AgentRow.username.in_(wanted)))
        return {username: name for username, name in rows}

    def _snapshot(self, session: Session, row: HandoffSessionRow) -> HandoffSession:
        names = self._names(session, [row.owner, row.agent, row.transfer_to])
        tickets = [t.number for t in self._customer_tickets(session, Customer(row.channel, row.channel_user_id))]
        if row.ticket_number and row.ticket_number not in tickets:
            tickets.append(row.ticket_number)
        return HandoffSession.from_row(row, names, tickets)

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
            session=self._snapshot(session, row),
            position=position,
            estimated_wait=wait,
            agent_name=agent_name,
            callback_due=row.callback_due,
            hours=self.hours.describe(),
        )


_OPEN = [s.value for s in OPEN_STATUSES]


def _message(row: HandoffSessionRow, **fields) -> HandoffMessageRow:
    """A transcript line of a session, addressed to (or from) the session's customer."""
    return HandoffMessageRow(session_id=row.id, channel=row.channel, channel_user_id=row.channel_user_id, **fields)




def describe_wait(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"约{minutes}分钟"


def masked_customer(customer: Customer) -> str:
    """A short label for the console that does not spell out the customer's id."""
    uid = mask_personal_data(customer.user_id)
    if len(uid) > 8:
        uid = f"{uid[:4]}…{uid[-2:]}"
    elif len(uid) > 4:  # short ids too (a Telegram id can have 8 digits): never the whole id
        uid = f"{uid[:2]}…{uid[-2:]}"
    return f"{customer.channel}:{uid}"
