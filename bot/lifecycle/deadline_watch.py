"""Deadlines watched (受理 → 处理 → 反馈 on time): `DeadlineWatch.scan` records each breach once and
closes tickets whose survey went unanswered; `attention` lists what is near or past a deadline.

`scan` runs in every server process every half minute and is safe in several at once: each breach
is claimed on the row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one writer on SQLite) and recorded once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, List

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.feed import feed_event
from bot.lifecycle.survey import SURVEY_WINDOW
from bot.staff import StaffMember
from bot.storage.database import Database
from bot.storage.models import TicketRow
from bot.text import beijing_time
from bot.tickets.model import OPEN_STATUSES, SYSTEM, Status, Ticket
from bot.tickets.rows import add_event, move_row

logger = logging.getLogger(__name__)

NEAR = timedelta(hours=4)  # "near a deadline" in the console
_OPEN = [s.value for s in OPEN_STATUSES]


def _locked(query, session: Session):
    if session.bind.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query



@dataclass(frozen=True)
class Attention:
    """A ticket near or past one of its deadlines, for the console."""

    ticket: Ticket
    deadline: str  # response | resolve | progress
    due: datetime
    overdue: bool


class DeadlineWatch:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def scan(self) -> int:
        """Record every new breach once, and close unanswered surveys; returns how many changes."""
        now = self.clock()
        changes = 0
        with self.db.transaction() as session:
            open_tickets = TicketRow.status.in_(_OPEN)
            checks = (
                (
                    sa.and_(open_tickets, TicketRow.responded_at.is_(None), TicketRow.response_due < now,
                            TicketRow.response_breached_at.is_(None)),
                    "response",
                ),
                (sa.and_(open_tickets, TicketRow.resolve_due < now, TicketRow.resolve_breached_at.is_(None)), "resolve"),
                (
                    sa.and_(
                        open_tickets,
                        TicketRow.progress_due < now,
                        sa.or_(TicketRow.progress_breached_due.is_(None), TicketRow.progress_breached_due < TicketRow.progress_due),
                    ),
                    "progress",
                ),
            )
            for condition, which in checks:
                for row in session.execute(_locked(sa.select(TicketRow).where(condition).limit(500), session)).scalars():
                    self._breach(row, which, now)
                    feed_event(session, now, "deadline_breached", SYSTEM, row.number)
                    changes += 1
            unanswered = sa.and_(
                TicketRow.status == Status.RESOLVED.value,
                TicketRow.survey_sent_at < now - SURVEY_WINDOW,
                TicketRow.rating.is_(None),
            )
            for row in session.execute(_locked(sa.select(TicketRow).where(unanswered).limit(500), session)).scalars():
                move_row(row, Status.CLOSED, SYSTEM, now, "超过72小时未评价，自动关闭（未评价）")
                changes += 1
        if changes:
            logger.info("deadline watch: %d change(s)", changes)
        return changes

    @staticmethod
    def _breach(row: TicketRow, which: str, now: datetime) -> None:
        if which == "response":
            row.response_breached_at = now
            detail = f"首次响应超时（应于 {beijing_time(row.response_due)} 前）"
        elif which == "resolve":
            row.resolve_breached_at = now
            detail = f"处理超时（应于 {beijing_time(row.resolve_due)} 前解决）"
        else:
            row.progress_breached_due = row.progress_due
            detail = f"未按时向客户更新进度（应于 {beijing_time(row.progress_due)} 前）"
        add_event(row, now, SYSTEM, "deadline_breached", detail)

    def attention(self, viewer: StaffMember, limit: int = 100) -> List[Attention]:
        """Open tickets near (within 4 h) or past a deadline: the viewer's own, or all for supervisors."""
        now = self.clock()
        soon = now + NEAR
        with self.db.transaction() as session:
            query = sa.select(TicketRow).where(
                TicketRow.status.in_(_OPEN),
                sa.or_(
                    sa.and_(TicketRow.responded_at.is_(None), TicketRow.response_due < soon),
                    TicketRow.resolve_due < soon,
                    TicketRow.progress_due < soon,
                ),
            )
            if not viewer.is_supervisor:
                query = query.where(sa.or_(TicketRow.responsible == viewer.username, TicketRow.handler == viewer.username))
            found = []
            for row in session.execute(query.order_by(TicketRow.resolve_due).limit(limit)).scalars():
                candidates = [("resolve", row.resolve_due)]
                if row.responded_at is None:
                    candidates.append(("response", row.response_due))
                if row.progress_due is not None:
                    candidates.append(("progress", row.progress_due))
                which, due = min(candidates, key=lambda c: c[1])
                found.append(Attention(Ticket.from_row(row), which, due, due < now))
            return sorted(found, key=lambda a: a.due)
