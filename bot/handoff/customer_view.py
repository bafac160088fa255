"""Knowing the customer: the panel beside an open session (all their tickets, also closed ones and
those filed from another channel with the same contact phone; their channels; their earlier
sessions), opening one ticket, and the ticket search.

Who sees which ticket (the search and opening a ticket follow one rule, `_visible`):

* a supervisor sees every ticket, and only supervisors may search by phone number;
* an agent sees the tickets they are or were responsible for or handle after an escalation, and the
  tickets of customers they have talked to (agent or owner of one of the customer's sessions);
* in the panel of a session the viewer may read, the customer's tickets and those linked to them by
  the same contact phone are shown (the agent is serving that customer now).

The routes write every read to the access log (view_customer, view_ticket, search_tickets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import ticket_numbers
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.handoff._rows import Part
from bot.handoff.model import HandoffSession
from bot.staff import StaffMember
from bot.storage.models import HandoffSessionRow, TicketRow
from bot.text import contact_phone_from
from bot.tickets import Customer, Ticket

SEARCH_KINDS = ("number", "text", "phone")
SEARCH_LIMIT = 50
PANEL_LIMIT = 30


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    tickets: Tuple[Ticket, ...]  # newest first; those of other channels found by the same phone too
    channels: Tuple[Customer, ...]  # every identity the customer is known by (this one first)
    sessions: Tuple[HandoffSession, ...]  # this customer's handoff sessions, newest first


def _visible(viewer: StaffMember) -> Optional[sa.sql.ColumnElement]:
    """The tickets an agent may see (None: all, for supervisors)."""
    if viewer.is_supervisor:
        return None
    me = viewer.username
    talked = sa.exists().where(
        HandoffSessionRow.channel == TicketRow.channel,
        HandoffSessionRow.channel_user_id == TicketRow.channel_user_id,
        sa.or_(HandoffSessionRow.agent == me, HandoffSessionRow.owner == me),
    )
    return sa.or_(TicketRow.responsible == me, TicketRow.handler == me, talked)


class CustomerView(Part):
    """The customer panel, one ticket, and the search."""

    def profile(self, viewer: StaffMember, session_id: int) -> CustomerProfile:
        with self.db.transaction() as session:
            row = self._session_row(session, session_id, lock=False)
            if not (viewer.is_supervisor or viewer.username in (row.agent, row.owner, row.transfer_to)):
                raise Forbidden("you do not hold this session")
            customer = Customer(row.channel, row.channel_user_id)
            same = sa.and_(TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id)
            phones = [p for p in session.execute(sa.select(TicketRow.contact_phone).where(same).distinct()).scalars() if p]
            linked = sa.or_(same, TicketRow.contact_phone.in_(phones)) if phones else same
            tickets = session.execute(
                sa.select(TicketRow).where(linked).order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(PANEL_LIMIT)
            ).scalars().all()
            channels = [customer] + sorted(
                {Customer(t.channel, t.channel_user_id) for t in tickets} - {customer}, key=lambda c: (c.channel, c.user_id)
            )
            sessions = session.execute(
                sa.select(HandoffSessionRow)
                .where(HandoffSessionRow.channel == customer.channel, HandoffSessionRow.channel_user_id == customer.user_id)
                .order_by(HandoffSessionRow.id.desc())
                .limit(20)
            ).scalars().all()
            return CustomerProfile(
                customer,
                tuple(Ticket.from_row(t) for t in tickets),
                tuple(channels),
                tuple(self._snapshot(session, s) for s in sessions),
            )

    def ticket(self, viewer: StaffMember, number: str) -> Ticket:
        """One ticket with its history, if the viewer may see it (NotFound otherwise, so numbers cannot be probed)."""
        canonical = ticket_numbers.find(number or "")
        if canonical is None:
            raise NotFound(number)
        with self.db.transaction() as session:
            rows = self._query(session, viewer, TicketRow.number == canonical)
            if not rows:
                raise NotFound(number)
            return Ticket.from_row(rows[0])

    def search(self, viewer: StaffMember, kind: str, query: str) -> List[Ticket]:
        """Tickets by number, by words of the description, or (supervisors only) by contact phone."""
        query = (query or "").strip()
        if kind not in SEARCH_KINDS:
            raise InvalidInput("kind must be number, text or phone")
        if not query:
            raise InvalidInput("the search is empty")
        if kind == "number":
            canonical = ticket_numbers.find(query)
            condition = TicketRow.number == canonical if canonical else TicketRow.number.like(f"%{_escape(query.upper())}%", escape="\\")
        elif kind == "text":
            if len(query) < 2:
                raise InvalidInput("search with at least two characters")
            condition = TicketRow.description.like(f"%{_escape(query[:100])}%", escape="\\")
        else:
            if not viewer.is_supervisor:
                raise Forbidden("only supervisors search by phone number")
            phone = contact_phone_from(query)
            if phone is None:
                raise InvalidInput("not a mobile number or a landline with its area code")
            condition = TicketRow.contact_phone == phone
        with self.db.transaction() as session:
            return [Ticket.from_row(t) for t in self._query(session, viewer, condition)]

    @staticmethod
    def _query(session: Session, viewer: StaffMember, condition: sa.sql.ColumnElement) -> List[TicketRow]:
        visible = _visible(viewer)
        where = condition if visible is None else sa.and_(condition, visible)
        return list(
            session.execute(
                sa.select(TicketRow).where(where).order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(SEARCH_LIMIT)
            ).scalars()
        )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
