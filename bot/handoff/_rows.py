"""What every part of the handoff shares: the desk (store, staff, working hours, clock, change
hook) and the row helpers the parts call inside their own transactions.

Private to the package. The parts (`routing`, `mailbox`, `console`, `ticket_actions`) each hold
the same `Desk`, so setting the clock or the change hook on `HandoffService` reaches all of them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.handoff.model import Attention, HandoffSession, Preview, WorkingHours
from bot.staff import AgentStatus, StaffService
from bot.storage.database import Database
from bot.storage.models import AgentRow, EscalationRow, HandoffEventRow, HandoffMessageRow, HandoffSessionRow, TicketRow
from bot.tickets import OPEN_STATUSES, Customer

logger = logging.getLogger("bot.handoff")

SYSTEM = "system"


class Desk:
    """The state the parts of the handoff share (one object, so a change is seen by all)."""

    def __init__(
        self,
        db: Database,
        staff: StaffService,
        hours: WorkingHours,
        clock: Callable[[], datetime],
        on_change: Optional[Callable[[], None]],
    ) -> None:
        self.db = db
        self.staff = staff
        self.hours = hours
        self.clock = clock
        # Called after each committed change (the in-process wake-up of long polls and deliveries).
        self.on_change = on_change


class Part:
    """Base of the handoff's parts: the shared desk, and the helpers used by more than one part."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    @property
    def db(self) -> Database:
        return self.desk.db

    @property
    def staff(self) -> StaffService:
        return self.desk.staff

    @property
    def hours(self) -> WorkingHours:
        return self.desk.hours

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.desk.clock

    @property
    def on_change(self) -> Optional[Callable[[], None]]:
        return self.desk.on_change

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
    def _online(session: Session, now: datetime) -> Dict[str, str]:
        """Agents who take new chats now: present and neither busy nor on a break."""
        rows = session.execute(
            sa.select(AgentRow.username, AgentRow.display_name).where(
                AgentRow.active.is_(True), AgentRow.online_until > now, AgentRow.status == AgentStatus.ONLINE.value
            )
        ).all()
        return {username: name for username, name in rows}

    @staticmethod
    def _names(session: Session, usernames: Iterable[Optional[str]]) -> Dict[str, str]:
        wanted = {u for u in usernames if u}
        if not wanted:
            return {}
        rows = session.execute(sa.select(AgentRow.username, AgentRow.display_name).where(AgentRow.username.in_(wanted)))
        return {username: name for username, name in rows}

    def _snapshot(self, session: Session, row: HandoffSessionRow, attention: bool = True) -> HandoffSession:
        """The session as callers see it. `attention` (preview, unanswered, escalation: four more
        queries) is for the console; the customer's side, on every message of a handoff, skips it."""
        names = self._names(session, [row.owner, row.agent, row.transfer_to])
        tickets = [t.number for t in self._customer_tickets(session, Customer(row.channel, row.channel_user_id))]
        if row.ticket_number and row.ticket_number not in tickets:
            tickets.append(row.ticket_number)
        return HandoffSession.from_row(row, names, tickets, self._attention(session, row) if attention else None)

    @staticmethod
    def _attention(session: Session, row: HandoffSessionRow) -> Attention:
        """The session's newest line and the customer's unanswered messages (three small queries
        on indexed columns; lists are paged, so this runs for a page at a time)."""
        last = session.execute(
            sa.select(HandoffMessageRow.sender, HandoffMessageRow.text, HandoffMessageRow.at)
            .where(HandoffMessageRow.session_id == row.id)
            .order_by(HandoffMessageRow.id.desc())
            .limit(1)
        ).first()
        answered = session.execute(
            sa.select(sa.func.max(HandoffMessageRow.id)).where(
                HandoffMessageRow.session_id == row.id, HandoffMessageRow.sender == "agent"
            )
        ).scalar_one_or_none() or 0
        count, since = session.execute(
            sa.select(sa.func.count(HandoffMessageRow.id), sa.func.min(HandoffMessageRow.at)).where(
                HandoffMessageRow.session_id == row.id,
                HandoffMessageRow.sender == "customer",
                HandoffMessageRow.id > answered,
                # The bot conversation copied in with the request carries the request's own time.
                HandoffMessageRow.at > row.requested_at,
            )
        ).one()
        escalation = None
        if row.ticket_number:
            escalation = session.execute(
                sa.select(EscalationRow.status)
                .join(TicketRow, TicketRow.id == EscalationRow.ticket_id)
                .where(TicketRow.number == row.ticket_number)
                .order_by(EscalationRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        preview = None if last is None else Preview(last.sender, (last.text or "")[:80], last.at)
        return Attention(preview, int(count or 0), since if count else None, escalation)


_OPEN = [s.value for s in OPEN_STATUSES]


def _message(row: HandoffSessionRow, **fields) -> HandoffMessageRow:
    """A transcript line of a session, addressed to (or from) the session's customer."""
    return HandoffMessageRow(session_id=row.id, channel=row.channel, channel_user_id=row.channel_user_id, **fields)
