"""What an agent does, from a chat, to the customer's tickets: escalate them to a supervisor,
or resolve one with an internal note (history only) and a message for the customer (sent with
the satisfaction survey).

Apart from `console` because both reach into the ticket lifecycle.
"""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import ticket_numbers
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.handoff._rows import Part
from bot.handoff.model import WITH_HUMAN, HandoffSession, SessionStatus
from bot.lifecycle import Escalations
from bot.staff import StaffMember
from bot.storage.models import HandoffSessionRow, TicketRow
from bot.tickets import Customer, Ticket
from bot.tickets.resolution import resolve_with_message


class TicketActions(Part):
    """Escalating and resolving the customer's tickets from a chat."""

    def escalate(self, viewer: StaffMember, session_id: int, reason: str) -> HandoffSession:
        """Ask a supervisor to step in; the agent stays responsible and keeps the customer informed."""
        reason = (reason or "").strip()[:255]
        if not reason:
            raise InvalidInput("an escalation needs a reason")
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

    def resolve_ticket(self, viewer: StaffMember, number: str, note: str, message: Optional[str] = None) -> Ticket:
        """Mark a ticket resolved: its responsible person, its chat's agent, or a supervisor.

        `note` is internal and goes only into the ticket's history; `message` is what the customer is
        told (without one they get a standard text: an internal note never reaches the customer)."""
        note = (note or "").strip()[:2000]
        message = (message or "").strip()[:2000] or None
        if not note and not message:
            raise InvalidInput("resolving needs a note or a message for the customer")
        now = self.clock()
        with self.db.transaction() as session:
            ticket = self._ticket_row(session, number)
            self._require_handler(session, viewer, ticket)
            # Resolved, and fed back: the result and the satisfaction survey, through the customer's own channel.
            resolve_with_message(session, ticket, viewer.username, now, note, message)
            session_row = self._open_row(session, Customer(ticket.channel, ticket.channel_user_id), WITH_HUMAN)
            self._event(session, session_row.id if session_row else None, "resolved", viewer.username, ticket.number)
            session.flush()
            result = Ticket.from_row(ticket)
        self._changed()
        return result

    @staticmethod
    def _ticket_row(session: Session, number: str) -> TicketRow:
        canonical = ticket_numbers.find(number or "")
        ticket = None
        if canonical is not None:
            ticket = session.execute(sa.select(TicketRow).where(TicketRow.number == canonical)).scalar_one_or_none()
        if ticket is None:
            raise NotFound(number)
        return ticket

    @staticmethod
    def _require_handler(session: Session, viewer: StaffMember, ticket: TicketRow) -> None:
        """Who acts on a ticket: a supervisor, its responsible person, or the agent in a live chat with its customer."""
        if viewer.is_supervisor or ticket.responsible == viewer.username:
            return
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
