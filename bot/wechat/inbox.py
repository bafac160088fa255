"""Messages WeChat pushed, taken in once and processed at least once.

WeChat waits five seconds for the webhook's answer and then retries (three times in all), so the
webhook answers at once and the turn runs afterwards. That turn must not be lost when its process
dies: the message is stored with its content and claimed with a lease that the holder renews while
the turn runs; it is done only when the turn completed. A retry that finds a live claim is a
duplicate, one that finds a claim that ran out takes it over, and the sweep (`stale`) hands every
message whose claim ran out, whoever received it, to a process that runs it again. A turn may so
run twice: the Rasa message id is the message key, so the action server files a ticket once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Callable, List

import sqlalchemy as sa

from bot.clock import utcnow
from bot.errors import Conflict
from bot.storage.database import Database
from bot.storage.models import WeChatInboxRow

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
KEEP = timedelta(days=3)  # a key outlives WeChat's retries by far
MAX_ATTEMPTS = 3  # turns that raised; then the message is given up (and recorded, not dropped)


class InboxClaim(str, Enum):
    TAKEN = "taken"  # yours to run (new, or a claim that ran out)
    DONE = "done"  # ran to the end before: a repeat
    BUSY = "busy"  # another process is running it right now


@dataclass(frozen=True)
class InboxMessage:
    key: str
    openid: str
    payload: str
    attempts: int


class WeChatInbox:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow, lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease

    def take(self, key: str, openid: str, payload: str, holder: str) -> InboxClaim:
        """Store the message and claim it, or claim it again when its holder's lease ran out."""
        now = self.clock()
        try:
            with self.db.transaction() as session:
                session.add(
                    WeChatInboxRow(
                        msg_key=key[:96], openid=openid[:64], payload=payload, received_at=now, holder=holder,
                        claimed_until=now + self.lease, attempts=1,
                    )
                )
            return InboxClaim.TAKEN
        except Conflict:
            pass
        if self._take_over(key, holder, now):
            return InboxClaim.TAKEN
        with self.db.transaction() as session:
            done = session.execute(sa.select(WeChatInboxRow.done_at).where(WeChatInboxRow.msg_key == key[:96])).first()
        return InboxClaim.DONE if done is None or done[0] is not None else InboxClaim.BUSY

    def _take_over(self, key: str, holder: str, now: datetime) -> bool:
        # One statement: of two processes taking over a claim that ran out, exactly one gets the row.
        with self.db.transaction() as session:
            taken = session.execute(
                sa.update(WeChatInboxRow)
                .where(
                    WeChatInboxRow.msg_key == key[:96],
                    WeChatInboxRow.done_at.is_(None),
                    sa.or_(WeChatInboxRow.claimed_until.is_(None), WeChatInboxRow.claimed_until < now),
                )
                .values(holder=holder, claimed_until=now + self.lease, attempts=WeChatInboxRow.attempts + 1)
            ).rowcount
        if taken:
            logger.warning("wechat message %s taken over from a claim that ran out", key)
        return bool(taken)

    def stale(self, holder: str, limit: int = 20) -> List[InboxMessage]:
        """Claim messages whose turn never finished (their process died or gave them back), to run
        them again; those that failed MAX_ATTEMPTS times are given up instead."""
        now = self.clock()
        with self.db.transaction() as session:
            keys = session.execute(
                sa.select(WeChatInboxRow.msg_key)
                .where(
                    WeChatInboxRow.done_at.is_(None),
                    sa.or_(WeChatInboxRow.claimed_until.is_(None), WeChatInboxRow.claimed_until < now),
                )
                .order_by(WeChatInboxRow.received_at)
                .limit(limit)
            ).scalars().all()
        found: List[InboxMessage] = []
        for key in keys:
            if not self._take_over(key, holder, now):
                continue  # another process swept it first
            with self.db.transaction() as session:
                row = session.get(WeChatInboxRow, key)
                if row.attempts > MAX_ATTEMPTS:
                    row.done_at, row.claimed_until = now, None
                    row.error = f"given up after {MAX_ATTEMPTS} attempts"
                    logger.error("wechat message %s given up after %d attempts", key, MAX_ATTEMPTS)
                    continue
                found.append(InboxMessage(row.msg_key, row.openid, row.payload, row.attempts))
        return found

    def renew(self, key: str, holder: str) -> bool:
        with self.db.transaction() as session:
            return session.execute(
                sa.update(WeChatInboxRow)
                .where(WeChatInboxRow.msg_key == key[:96], WeChatInboxRow.holder == holder, WeChatInboxRow.done_at.is_(None))
                .values(claimed_until=self.clock() + self.lease)
            ).rowcount == 1

    def done(self, key: str) -> None:
        """The turn completed: every later repeat is a duplicate."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(WeChatInboxRow)
                .where(WeChatInboxRow.msg_key == key[:96], WeChatInboxRow.done_at.is_(None))
                .values(done_at=self.clock(), claimed_until=None, error=None)
            )

    def release(self, key: str, holder: str, error: str) -> None:
        """The turn failed: the next sweep (or WeChat's retry) runs it again."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(WeChatInboxRow)
                .where(WeChatInboxRow.msg_key == key[:96], WeChatInboxRow.holder == holder, WeChatInboxRow.done_at.is_(None))
                .values(claimed_until=None, error=error[:255])
            )

    def prune(self) -> None:
        with self.db.transaction() as session:
            session.execute(sa.delete(WeChatInboxRow).where(WeChatInboxRow.received_at < self.clock() - KEEP))
