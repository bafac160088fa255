"""What supervisors and intake see of an incident (frozen snapshots), and the small rules that name
and count: the incident number, how the fault is named to customers, who counts toward a threshold.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Optional, Sequence, Set, Tuple

from bot import ticket_numbers
from bot.storage.models import TicketRow
from bot.tickets.model import Status


@dataclass(frozen=True)
class LinkedTicket:
    number: str
    status: Status
    created_at: datetime


@dataclass(frozen=True)
class Incident:
    id: int
    number: str
    status: str
    area: Optional[str]
    symptom: Optional[str]
    symptom_label: str
    match_key: str
    title: str
    opened_at: datetime
    opened_by: str
    eta: Optional[datetime]
    note: Optional[str]
    closed_at: Optional[datetime]
    closed_by: Optional[str]
    resolution: Optional[str]
    linked: int
    linked_open: int
    customers: int
    tickets: Tuple[LinkedTicket, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status == "open"


PHONES_PER_SOURCE = 2


def distinct_customers(tickets: Sequence[TicketRow]) -> Set[str]:
    """The customers behind complaints, as far as the threshold is concerned: one per contact phone,
    and at most `PHONES_PER_SOURCE` phones from one source.

    Tickets, sessions and channel accounts cost an attacker nothing (a fresh web-chat session is a new
    account); a phone number is the one thing each real customer brings. Complaints without a phone do
    not count toward opening an incident, and one phone counts once however often it complains. The
    phone is not verified by SMS here, so one client could still make up numbers: a source (the
    pseudonym of the network address a complaint came from, or the channel account where there is no
    address, as on Telegram) adds at most two. Two, not one: neighbours on one mobile carrier's NAT
    share an address, and a family reports from one home.
    """
    counted: Set[str] = set()
    per_source: Dict[str, int] = {}
    for ticket in sorted(tickets, key=lambda t: (t.created_at, t.id or 0)):
        phone = ticket.contact_phone
        if not phone or phone in counted:
            continue
        source = ticket.origin or f"{ticket.channel}:{ticket.channel_user_id}"
        if per_source.get(source, 0) >= PHONES_PER_SOURCE:
            continue
        per_source[source] = per_source.get(source, 0) + 1
        counted.add(phone)
    return counted


@dataclass(frozen=True)
class Outcome:
    """What intake made of a network ticket."""

    ticket_number: str
    area: Optional[str]
    symptom: Optional[str]
    incident: Optional[Incident] = None
    opened: bool = False  # this ticket's arrival opened the incident
    customer_text: Optional[str] = None  # the known-fault notice, when linked

    @property
    def linked(self) -> bool:
        return self.incident is not None


def new_incident_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(ticket_numbers.ALPHABET) for _ in range(6))
    return f"GZ{now.astimezone(ticket_numbers.BEIJING):%y%m%d}-{suffix}"


def subject(area: Optional[str], symptom_label: str) -> str:
    """How the fault is named to customers: 阳光花园一带的手机没信号问题."""
    if area:
        return f"{area}一带的{symptom_label}问题"
    return f"多个地区的{symptom_label}问题"

