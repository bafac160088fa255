"""An agent's shift as the console sees it: the queue by kind (live chats in the order customers
were told their place, call-back requests by their promised time), paged and filtered so a backlog
of call-backs never hides a live customer; and the hand-back at the end of a shift, which puts the
agent's chats straight back in the queue (customers told) instead of waiting for the offline sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import sqlalchemy as sa

from bot.errors import InvalidInput
from bot.handoff._rows import SYSTEM, Part, logger
from bot.handoff.model import QUEUED, HandoffSession, SessionStatus
from bot.handoff.texts import REQUEUED_TEXT
from bot.severity import Severity
from bot.staff import StaffMember
from bot.storage.models import HandoffSessionRow

KINDS = {"live": (SessionStatus.WAITING.value,), "callback": (SessionStatus.CALLBACK.value,), "all": QUEUED}
MAX_PAGE = 200


@dataclass(frozen=True)
class QueueQuery:
    """Which part of the queue a console shows: kind, page and filters (`overdue` = past the
    session's deadline, or the call-back's promised time)."""

    kind: str = "all"
    limit: int = 50
    offset: int = 0
    overdue: bool = False
    severity: Optional[str] = None

    def checked(self) -> "QueueQuery":
        if self.kind not in KINDS:
            raise InvalidInput("kind must be 'live', 'callback' or 'all'")
        if not 0 < self.limit <= MAX_PAGE or self.offset < 0:
            raise InvalidInput(f"limit must be 1-{MAX_PAGE} and offset at least 0")
        if self.severity is not None and self.severity not in {s.value for s in Severity}:
            raise InvalidInput("severity must be 'general', 'major' or 'urgent'")
        return self


class Shift(Part):
    """The paged queue and the end-of-shift hand-back."""

    def queue_page(self, viewer: StaffMember, query: QueueQuery) -> Tuple[List[HandoffSession], int]:
        """One page of the queue and the total matching the filters.

        Live chats come in `CustomerRouting._position` order (deadline, then id), so the agent
        sees them in exactly the order the customers were told; call-backs by promised time.
        """
        query = query.checked()
        now = self.clock()
        where = [HandoffSessionRow.status.in_(KINDS[query.kind])]
        if query.severity:
            where.append(HandoffSessionRow.severity == query.severity)
        if query.overdue:
            where.append(sa.func.coalesce(HandoffSessionRow.callback_due, HandoffSessionRow.due) < now)
        if query.kind == "callback":
            order = (sa.func.coalesce(HandoffSessionRow.callback_due, HandoffSessionRow.due), HandoffSessionRow.id)
        else:
            order = (HandoffSessionRow.due, HandoffSessionRow.id)
        with self.db.transaction() as session:
            total = session.execute(sa.select(sa.func.count(HandoffSessionRow.id)).where(*where)).scalar_one()
            rows = session.execute(
                sa.select(HandoffSessionRow).where(*where).order_by(*order).limit(query.limit).offset(query.offset)
            ).scalars().all()
            return [self._snapshot(session, row) for row in rows], int(total)

    def hand_back(self, viewer: StaffMember) -> List[int]:
        """Put the viewer's active chats back in the queue at once (customers told; each keeps its
        owner, as the offline sweep does) and withdraw transfers offered to them; the ids moved."""
        now = self.clock()
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(HandoffSessionRow)
                .where(HandoffSessionRow.status == SessionStatus.ACTIVE.value, HandoffSessionRow.agent == viewer.username)
                .with_for_update()
            ).scalars().all()
            for row in rows:
                self._event(session, row.id, "requeued", viewer.username, "agent handed back at logout")
                row.status = SessionStatus.WAITING.value
                row.agent = None
                row.transfer_to = row.transfer_reason = None
                row.updated_at = now
                self._system_message(session, row, REQUEUED_TEXT, now)
            offered = session.execute(
                sa.select(HandoffSessionRow).where(
                    HandoffSessionRow.status == SessionStatus.ACTIVE.value, HandoffSessionRow.transfer_to == viewer.username
                )
            ).scalars().all()
            for row in offered:
                row.transfer_to = row.transfer_reason = None
                row.updated_at = now
                self._event(session, row.id, "transfer_declined", SYSTEM, f"{viewer.username} logged out")
            moved = [row.id for row in rows]
        if moved or offered:
            logger.info("handoff: %d session(s) handed back at logout by %s", len(moved), viewer.username)
            self._changed()
        return moved
