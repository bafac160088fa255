"""The agent's side of a handoff: what the console reads (queue, sessions, transcript, the
feed) and what an agent does in a chat (accept, reply, transfer, reassign, release, close).

Responsibility for the customer's tickets moves only by an accepted transfer or a supervisor's
reassignment, always written in the ticket history with who, when and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.errors import Forbidden, InvalidInput, NotFound, Taken, WrongState
from bot.handoff._rows import _OPEN, Part, _message, logger
from bot.handoff.model import QUEUED, FeedEvent, HandoffSession, Message, SessionStatus
from bot.handoff.texts import ACCEPTED_TEXT, CLOSED_TEXT, RELEASED_TEXT, TRANSFERRED_TEXT
from bot.staff import StaffMember
from bot.storage.models import (
    AgentRow,
    HandoffEventRow,
    HandoffMessageRow,
    HandoffSessionRow,
    TicketEventRow,
    TicketRow,
)
from bot.text import MAX_MESSAGE_CHARS
from bot.tickets import PROGRESS_INTERVAL, Customer, Ticket, assign_row


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("empty message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"message longer than {MAX_MESSAGE_CHARS} characters")
    return text


class Console(Part):
    """The console's reads and an agent's actions on a session."""

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
