"""What a ticket is: its statuses and the lifecycle between them, the actors, and the frozen
snapshot (`Ticket`) handed to adapters.

No database work here: the rules that change ticket rows are in bot/tickets/rows.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Optional, Tuple

from sqlalchemy import inspect as sa_inspect

from bot.categories import Category, Department
from bot.customers import Customer
from bot.severity import Severity
from bot.storage.models import TicketRow
from bot.text import mask_phone
from bot.tickets import history

# Who an event is attributed to when it is not a staff member.
CUSTOMER = "customer"
BOT = "bot"
SYSTEM = "system"


class Status(str, enum.Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED})

# The lifecycle: new -> assigned -> in_progress -> resolved -> closed, and reopened from resolved or closed.
TRANSITIONS = {
    Status.NEW: {Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
    Status.ASSIGNED: {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
    Status.IN_PROGRESS: {Status.RESOLVED},
    Status.RESOLVED: {Status.CLOSED, Status.REOPENED},
    Status.CLOSED: {Status.REOPENED},
    Status.REOPENED: {Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED},
}

_STATUS_LABELS = {
    Status.NEW: "已受理，待处理",
    Status.ASSIGNED: "已派单",
    Status.IN_PROGRESS: "处理中",
    Status.RESOLVED: "已解决",
    Status.CLOSED: "已关闭",
    Status.REOPENED: "重新处理中",
}


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    kind: str
    detail: str


@dataclass(frozen=True)
class Ticket:
    """A snapshot of a ticket, safe to hand to adapters."""

    number: str
    customer: Customer
    contact_phone: Optional[str]
    category: Category
    severity: Severity
    severity_reason: str
    department: Department
    responsible: Optional[str]
    status: Status
    description: str
    created_at: datetime
    response_due: datetime
    resolve_due: datetime
    human_requested_at: Optional[datetime]
    events: Tuple[Event, ...]
    progress_due: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    repeat_of: Optional[str] = None
    repeat_count: int = 0
    escalation_level: int = 0
    handler: Optional[str] = None
    rating: Optional[int] = None
    change_seq: Optional[int] = None  # position of the latest change in commit order (pull API cursor)
    # Display names of the staff its history and fields name (username -> 小王), for the Chinese history.
    names: Dict[str, str] = field(default_factory=dict, compare=False)

    def name_of(self, username: Optional[str]) -> Optional[str]:
        return None if username is None else self.names.get(username, username)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.contact_phone or "")

    @classmethod
    def from_row(cls, row: TicketRow) -> "Ticket":
        """The snapshot; inside a transaction it also carries the display names of the staff it names
        (one small query on the agents table)."""
        session = sa_inspect(row).session
        names: Dict[str, str] = {}
        if session is not None:
            wanted = {row.responsible, row.handler}
            for e in row.events:
                wanted |= history.usernames_in(e.actor, e.detail)
            names = history.names_of(session, wanted)
        return cls(
            number=row.number,
            customer=Customer(row.channel, row.channel_user_id),
            contact_phone=row.contact_phone,
            category=Category(row.category),
            severity=Severity(row.severity),
            severity_reason=row.severity_reason,
            department=Department(row.department),
            responsible=row.responsible,
            status=Status(row.status),
            description=row.description,
            created_at=row.created_at,
            response_due=row.response_due,
            resolve_due=row.resolve_due,
            human_requested_at=row.human_requested_at,
            events=tuple(Event(e.at, e.actor, e.kind, e.detail) for e in row.events),
            progress_due=row.progress_due,
            updated_at=row.updated_at,
            repeat_of=row.repeat_of,
            repeat_count=row.repeat_count or 0,
            escalation_level=row.escalation_level or 0,
            handler=row.handler,
            rating=row.rating,
            change_seq=row.change_seq,
            names=names,
        )
