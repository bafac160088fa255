"""The handoff's vocabulary: session states, what a request or a message came to, working hours
and the frozen snapshots handed to channels and the console.

Nothing here touches the store; `routing`, `console` and `mailbox` build these from rows.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Dict, Optional, Sequence, Tuple

from bot.categories import Category
from bot.clock import BEIJING
from bot.errors import InvalidInput
from bot.severity import Severity
from bot.storage.models import HandoffMessageRow, HandoffSessionRow
from bot.tickets import Customer


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
class Preview:
    """The newest line of a session, and what the customer has said since the agent last wrote:
    what an agent needs to see in a list so that no message goes unnoticed."""

    sender: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Attention:
    last: Optional[Preview] = None
    unanswered: int = 0  # customer messages since the last agent message
    waiting_since: Optional[datetime] = None  # the first of those
    escalation: Optional[str] = None  # the newest escalation of the session's ticket: pending/accepted/declined


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
    attention: Attention = field(default_factory=Attention, compare=False)

    def name_of(self, username: Optional[str]) -> Optional[str]:
        return None if username is None else self.names.get(username, username)

    @classmethod
    def from_row(
        cls, row: HandoffSessionRow, names: Dict[str, str], tickets: Sequence[str], attention: Optional[Attention] = None
    ) -> "HandoffSession":
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
            attention=attention or Attention(),
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
class GateState:
    """What the channel gate must know about a customer before the bot may answer (one read)."""

    pending: bool  # agent messages no channel has delivered to the customer yet
    with_human: bool  # waiting for an agent or talking to one: the message is for the transcript


@dataclass(frozen=True)
class Routing:
    """What became of a customer message that arrived during a handoff."""

    session: HandoffSession
    cancelled: bool = False
    position: int = 0
    estimated_wait: timedelta = timedelta(0)
