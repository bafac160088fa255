"""What staff do around a chat rather than in it: internal notes (on the session, on a ticket) that
the customer never sees, a progress update to the customer's own channel after the chat has ended,
and call-backs handled by phone (reveal the number, record the call's outcome).

Apart from `console` (the live chat) and `ticket_actions` (escalate, resolve) because none of this
talks to the customer inside a session: a note is stored with ``to_customer`` false, so no mailbox
query ever offers it to a channel; a progress update is a notice outside any session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy.orm import Session

from bot.clock import beijing_time
from bot.errors import Forbidden, InvalidInput, WrongState
from bot.handoff._rows import _OPEN, _message
from bot.handoff.model import Message, SessionStatus
from bot.handoff.ticket_actions import TicketActions
from bot.notices import notice
from bot.staff import StaffMember
from bot.storage.models import HandoffSessionRow, TicketRow
from bot.text import MAX_MESSAGE_CHARS
from bot.tickets import PROGRESS_INTERVAL, Customer, Status, Ticket, add_event, assign_row

NOTE_SENDER = "note"
PROGRESS_TEXT = "您的工单 {number} 有新进展：{text}（客服{name}）"

# What a call-back came to: 已联系 closes it, 未接通 keeps it in the queue, 再次回电 sets a new deadline.
REACHED, NO_ANSWER, RETRY = "reached", "no_answer", "retry"
OUTCOMES = (REACHED, NO_ANSWER, RETRY)
_OUTCOME_KINDS = {REACHED: "callback_reached", NO_ANSWER: "callback_attempt", RETRY: "callback_rescheduled"}
MAX_RETRY_AHEAD = timedelta(days=14)


def _text(text: str, what: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} longer than {limit} characters")
    return text


class FollowUp(TicketActions):
    """Notes, progress updates after the chat, and call-backs by phone."""

    # -- internal notes -------------------------------------------------------------------

    def session_note(self, viewer: StaffMember, session_id: int, text: str) -> Message:
        """A note in the session's transcript for staff only (never delivered to the customer)."""
        text = _text(text, "note")
        now = self.clock()
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            if not (viewer.is_supervisor or viewer.username in (row.agent, row.owner, row.transfer_to)):
                raise Forbidden("you do not hold this session")
            note = _message(row, at=now, sender=NOTE_SENDER, agent=viewer.username, text=text, to_customer=False)
            session.add(note)
            session.flush()
            self._event(session, row.id, "note", viewer.username, str(note.id))
            result = Message.from_row(note, Customer(row.channel, row.channel_user_id), viewer.display_name)
        self._changed()
        return result

    def ticket_note(self, viewer: StaffMember, number: str, text: str) -> Ticket:
        """An internal note in the ticket's history (staff and the backend see it, the customer never)."""
        text = _text(text, "note", 2000)
        with self.db.transaction() as session:
            row = self._ticket_row(session, number)
            self._require_handler(session, viewer, row)
            add_event(row, self.clock(), viewer.username, "internal_note", text)
            session.flush()
            result = Ticket.from_row(row)
        self._changed()
        return result

    # -- after the chat -------------------------------------------------------------------

    def send_progress(self, viewer: StaffMember, number: str, text: str) -> Ticket:
        """A progress update to the customer's own channel, with or without a live chat: it is the
        24-hour update the responsible person owes, so the next one is due a day later."""
        text = _text(text, "progress update", 1000)
        now = self.clock()
        with self.db.transaction() as session:
            row = self._ticket_row(session, number)
            self._require_handler(session, viewer, row)
            if not Status(row.status).is_open:
                raise WrongState(f"ticket {row.number} is {row.status}")
            notice(session, Customer(row.channel, row.channel_user_id),
                   PROGRESS_TEXT.format(number=row.number, text=text, name=viewer.display_name), (), now)
            add_event(row, now, viewer.username, "progress_update", f"已告知客户：{text}")
            row.progress_due = now + PROGRESS_INTERVAL
            self._event(session, None, "progress_sent", viewer.username, row.number)
            session.flush()
            result = Ticket.from_row(row)
        self._changed()
        return result

    # -- call-backs -----------------------------------------------------------------------

    def reveal_phone(self, viewer: StaffMember, session_id: int) -> Tuple[Customer, Optional[str]]:
        """The full contact phone of a call-back's customer, for the agent handling the call-back (the
        first agent to reveal it takes the call-back), the tickets' responsible person or a supervisor.
        The caller writes the reveal to the access log."""
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            tickets = self._callback_tickets(session, row)
            self._require_callback_handler(viewer, row, tickets, claim=True)
            row.updated_at = self.clock()
            phone = next((t.contact_phone for t in tickets if t.contact_phone), None)
            customer = Customer(row.channel, row.channel_user_id)
        self._changed()
        return customer, phone

    def callback_outcome(
        self, viewer: StaffMember, session_id: int, outcome: str, note: str = "", retry_at: Optional[datetime] = None
    ) -> Ticket | None:
        """Record a call's outcome in the tickets' history. 已联系 closes the call-back (the agent becomes
        responsible for tickets without one); 未接通 keeps it in the queue for anyone; 再次回电 keeps it with
        a new deadline. The customer is not sent "客服已接入": the call was by phone."""
        if outcome not in OUTCOMES:
            raise InvalidInput("outcome must be reached, no_answer or retry")
        note = (note or "").strip()[:500]
        now = self.clock()
        if outcome == RETRY:
            if retry_at is None or not now < retry_at <= now + MAX_RETRY_AHEAD:
                raise InvalidInput("retry_at must be a time within the next 14 days")
        with self.db.transaction() as session:
            row = self._session_row(session, session_id)
            tickets = self._callback_tickets(session, row)
            self._require_callback_handler(viewer, row, tickets, claim=False)
            if outcome == REACHED:
                detail = "已电话联系客户"
                row.status = SessionStatus.CLOSED.value
                row.agent = viewer.username
                row.owner = row.owner or viewer.username
                row.accepted_at = row.accepted_at or now
                row.ended_at = now
                row.callback_due = None
                for ticket in tickets:
                    if ticket.responsible is None:
                        assign_row(ticket, viewer.username, viewer.username, now, f"首问负责：回电联系（会话 #{row.id}）")
                    if ticket.responsible == viewer.username:
                        ticket.progress_due = now + PROGRESS_INTERVAL
            elif outcome == NO_ANSWER:
                tries = 1 + sum(1 for e in (tickets[0].events if tickets else []) if e.kind == "callback_attempt")
                detail = f"回电未接通（第{tries}次）"
                row.agent = None  # back in the queue for whoever calls next
            else:
                detail = f"约定 {beijing_time(retry_at)} 再次回电"
                row.agent = None
                row.callback_due = row.due = retry_at
            row.updated_at = now
            detail += f"；备注：{note}" if note else ""
            for ticket in tickets:
                add_event(ticket, now, viewer.username, _OUTCOME_KINDS[outcome], detail)
            self._event(session, row.id, _OUTCOME_KINDS[outcome], viewer.username, detail)
            session.flush()
            result = Ticket.from_row(tickets[0]) if tickets else None
        self._changed()
        return result

    def _callback_tickets(self, session: Session, row: HandoffSessionRow) -> List[TicketRow]:
        """The call-back's tickets: the session's own and the customer's open ones."""
        if row.status != SessionStatus.CALLBACK.value:
            raise WrongState(f"session {row.id} is {row.status}, not a call-back")
        tickets = self._customer_tickets(session, Customer(row.channel, row.channel_user_id), open_only=False, limit=20)
        return [t for t in tickets if t.status in _OPEN or t.number == row.ticket_number]

    @staticmethod
    def _require_callback_handler(viewer: StaffMember, row: HandoffSessionRow, tickets: List[TicketRow], claim: bool) -> None:
        if viewer.is_supervisor or viewer.username in (row.agent, row.owner):
            return
        if any(t.responsible == viewer.username for t in tickets):
            return
        if row.agent is None:
            if claim:
                row.agent = viewer.username  # this agent is handling the call-back now
            return
        raise Forbidden("another agent is handling this call-back")
