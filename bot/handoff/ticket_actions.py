"""What an agent does, from a chat, to the customer's tickets: escalate them to a supervisor,
or resolve one with a note (which sends the customer the result and the satisfaction survey).

Apart from `console` because both reach into the ticket lifecycle.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot import ticket_numbers
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.handoff._rows import Part
from bot.handoff.model import WITH_HUMAN, HandoffSession, SessionStatus
from bot.lifecycle import Escalations
from bot.staff import StaffMember
from bot.storage.models import HandoffSessionRow, TicketRow
from bot.tickets import Customer, Ticket, resolve_row


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
            # Resolved, and fed back: the result and the satisfaction survey, through the customer's own channel.
            resolve_row(session, ticket, viewer.username, now, note[:2000], result=note[:2000])
            session_row = self._open_row(session, Customer(ticket.channel, ticket.channel_user_id), WITH_HUMAN)
            self._event(session, session_row.id if session_row else None, "resolved", viewer.username, ticket.number)
            session.flush()
            result = Ticket.from_row(ticket)
        self._changed()
        return result
