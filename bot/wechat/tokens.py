"""The access token of a WeChat Official Account, shared by every process through the database.

WeChat issues one valid token per AppID: a process that fetches a new token invalidates the one
the others hold. So the token lives in one row; a process that finds it missing or near its expiry
takes the row's refresh lock with a conditional update (exactly one process wins), fetches, and
stores the new token; the others wait for it. A token WeChat calls invalid (40001) is dropped only
if it is still the stored one, so processes that saw the same error refresh it once, not each.
Fetching itself is the caller's (an HTTP call): it is passed in.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Callable, Optional, Tuple

import sqlalchemy as sa

from bot.clock import utcnow
from bot.errors import Conflict, IntakeError
from bot.storage.database import Database
from bot.storage.models import WeChatTokenRow

logger = logging.getLogger(__name__)

# Refresh this long before WeChat's expiry (7,200 s): calls in flight never carry an expired token.
EARLY = timedelta(minutes=5)
LOCK = timedelta(seconds=30)  # a fetch that takes longer is presumed dead; another process may try
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.1

Fetch = Callable[[], Tuple[str, int]]  # -> (token, expires_in seconds)


class TokenBusy(IntakeError):
    """Another process is fetching the token and did not finish in time."""


class AccessTokens:
    def __init__(
        self, db: Database, app_id: str, clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.app_id = app_id
        self.clock = clock
        self.sleep = sleep

    def current(self, fetch: Fetch, wait: float = WAIT_SECONDS) -> str:
        """A valid token: the stored one, or one this process fetches while holding the lock."""
        self._ensure_row()
        deadline = time.monotonic() + wait
        while True:
            token = self._valid()
            if token is not None:
                return token
            if self._lock():
                return self._refresh(fetch)
            if time.monotonic() >= deadline:
                raise TokenBusy("access token refresh by another process did not finish")
            self.sleep(POLL_SECONDS)

    def invalidate(self, token: str) -> None:
        """WeChat refused `token`: drop it, unless another process has replaced it already."""
        with self.db.transaction() as session:
            session.execute(
                sa.update(WeChatTokenRow)
                .where(WeChatTokenRow.app_id == self.app_id, WeChatTokenRow.token == token)
                .values(expires_at=None)
            )

    def fetches(self) -> int:
        """How many times a token was fetched for this AppID (for the tests and the logs)."""
        with self.db.transaction() as session:
            row = session.get(WeChatTokenRow, self.app_id)
            return row.fetched if row is not None else 0

    def _ensure_row(self) -> None:
        with self.db.transaction() as session:
            if session.get(WeChatTokenRow, self.app_id) is not None:
                return
        try:
            with self.db.transaction() as session:
                session.add(WeChatTokenRow(app_id=self.app_id, fetched=0))
        except Conflict:
            pass  # another process added it

    def _valid(self) -> Optional[str]:
        with self.db.transaction() as session:
            row = session.get(WeChatTokenRow, self.app_id)
            if row is None or not row.token or row.expires_at is None or row.expires_at - EARLY <= self.clock():
                return None
            return row.token

    def _lock(self) -> bool:
        now = self.clock()
        with self.db.transaction() as session:
            return session.execute(
                sa.update(WeChatTokenRow)
                .where(
                    WeChatTokenRow.app_id == self.app_id,
                    sa.or_(WeChatTokenRow.refreshing_until.is_(None), WeChatTokenRow.refreshing_until < now),
                    # Someone else may have refreshed between our read and now: then there is nothing to do.
                    sa.or_(
                        WeChatTokenRow.token.is_(None), WeChatTokenRow.expires_at.is_(None),
                        WeChatTokenRow.expires_at <= now + EARLY,
                    ),
                )
                .values(refreshing_until=now + LOCK)
            ).rowcount == 1

    def _refresh(self, fetch: Fetch) -> str:
        try:
            token, expires_in = fetch()
        except BaseException:
            with self.db.transaction() as session:
                session.execute(
                    sa.update(WeChatTokenRow).where(WeChatTokenRow.app_id == self.app_id).values(refreshing_until=None)
                )
            raise
        with self.db.transaction() as session:
            session.execute(
                sa.update(WeChatTokenRow)
                .where(WeChatTokenRow.app_id == self.app_id)
                .values(
                    token=token, expires_at=self.clock() + timedelta(seconds=max(int(expires_in), 0)),
                    refreshing_until=None, fetched=WeChatTokenRow.fetched + 1,
                )
            )
        logger.info("wechat access token refreshed (valid %d s)", expires_in)
        return token
