"""Retention: transcripts, the bot's conversation log, evidence attachments and the outbox's copies
are deleted once older than TRANSCRIPT_RETENTION_DAYS (default 180), in short chunks; hourly in every
Rasa process, or with the CLI. Attachments held for a complaint that never came are deleted once the
hold (bot.tickets.EVIDENCE_HOLD) is over.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

import sqlalchemy as sa

from bot.attachments.store import DirectoryStore, StoredFiles
from bot.clock import utcnow
from bot.outbox import OUTBOX_KEEP, OutboxAdmin
from bot.storage.conversations import ConversationLog, events as conversation_events
from bot.storage.database import Database
from bot.privacy.requests import Files
from bot.storage.models import (
    AttachmentBlobRow,
    AttachmentLinkUseRow,
    AttachmentRow,
    DeliveryFailureRow,
    HandoffMessageRow,
    PrivacyPhoneCheckRow,
)
from bot.ticket_numbers import BEIJING
from bot.tickets import EVIDENCE_HOLD

logger = logging.getLogger("bot.privacy")

DEFAULT_RETENTION_DAYS = 180
PURGE_CHUNK = 500
ORPHAN_AGE_SECONDS = 3600.0  # a file without a row this old is no upload in flight


def retention_days() -> int:
    raw = os.environ.get("TRANSCRIPT_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    days = int(raw)
    if days < 1:
        raise ValueError("TRANSCRIPT_RETENTION_DAYS must be 1 or more")
    return days


class Retention:
    """Deletes transcripts and the bot's conversation log older than the retention period, in chunks
    (short transactions; a long purge never blocks conversations)."""

    def __init__(
        self,
        db: Database,
        log: Optional[ConversationLog],
        days: Optional[int] = None,
        clock: Callable[[], datetime] = utcnow,
        files: Optional[Files] = None,
    ) -> None:
        self.db = db
        self.log = log
        self.files = files  # the attachment service: removes the bytes of deleted attachments
        self.days = days if days is not None else retention_days()
        self.clock = clock

    def purge(self) -> Dict[str, int]:
        cutoff = self.clock() - timedelta(days=self.days)
        # Only the store of a given attachment service is swept (never one guessed from the environment).
        swept = getattr(self.files, "store", None)
        counts = {
            "transcript_messages": self._chunked(
                HandoffMessageRow,
                HandoffMessageRow.at < cutoff,
                # Never a message still waiting for its channel.
                sa.or_(HandoffMessageRow.to_customer.is_(False), HandoffMessageRow.delivered_at.isnot(None),
                       HandoffMessageRow.failed_at.isnot(None)),
            ),
            "delivery_failures": self._chunked(DeliveryFailureRow, DeliveryFailureRow.at < cutoff),
            "attachments": self._purge_attachments(
                sa.or_(
                    AttachmentRow.created_at < cutoff,
                    sa.and_(AttachmentRow.ticket_number.is_(None), AttachmentRow.created_at < self.clock() - EVIDENCE_HOLD),
                )
            ),
            "conversation_events": self._purge_conversations(cutoff),
        }
        counts["orphan_files"] = self._sweep_files(swept)
        counts["privacy_phone_checks"] = self._purge_phone_checks()
        counts["spent_links"] = self._purge_spent_links()
        # Outbox rows carry the phone and the description too: never kept longer than transcripts.
        pruned = OutboxAdmin(self.db, self.clock).prune(min(OUTBOX_KEEP, timedelta(days=self.days)))
        counts["outbox_events"] = pruned["delivered"] + pruned["never_pushed"]
        if any(counts.values()):
            logger.info("retention (%s days) purged %s", self.days, counts)
        return counts

    def _purge_attachments(self, condition: Any) -> int:
        """Rows and database-stored bytes in one transaction per chunk, then the directory's files."""
        total = 0
        while True:
            with self.db.transaction() as session:
                ids: List[str] = list(session.execute(
                    sa.select(AttachmentRow.id).where(condition).limit(PURGE_CHUNK)
                ).scalars())
                if not ids:
                    return total
                keys: Iterable[str] = ids + [f"{i}.thumb" for i in ids]
                session.execute(sa.delete(AttachmentBlobRow).where(AttachmentBlobRow.key.in_(keys)))
                session.execute(sa.delete(AttachmentRow).where(AttachmentRow.id.in_(ids)))
            if self.files is None:
                self.files = StoredFiles.from_env(self.db)  # the CLI: the store the environment configures
            if self.files is not None:
                self.files.delete_bytes(ids)
            total += len(ids)

    def _sweep_files(self, store: Any) -> int:
        """Files of the directory store that no attachment row names any more (see DirectoryStore.sweep)."""
        if not isinstance(store, DirectoryStore):
            return 0

        def known(ids: Iterable[str]) -> Set[str]:
            with self.db.transaction() as session:
                return set(session.execute(sa.select(AttachmentRow.id).where(AttachmentRow.id.in_(list(ids)))).scalars())

        return store.sweep(known, ORPHAN_AGE_SECONDS)

    def _purge_phone_checks(self) -> int:
        """Yesterday's and today's counts are all the limit reads; older ones only name customers."""
        oldest = self.clock().astimezone(BEIJING).date() - timedelta(days=1)
        with self.db.transaction() as session:
            return session.execute(sa.delete(PrivacyPhoneCheckRow).where(PrivacyPhoneCheckRow.day < oldest)).rowcount or 0

    def _purge_spent_links(self) -> int:
        """A followed link is refused by its expiry once that has passed: its record is no longer needed."""
        with self.db.transaction() as session:
            return session.execute(
                sa.delete(AttachmentLinkUseRow).where(AttachmentLinkUseRow.expires_at < self.clock())
            ).rowcount or 0

    def _chunked(self, model: Any, *conditions: Any) -> int:
        total = 0
        while True:
            with self.db.transaction() as session:
                ids = session.execute(sa.select(model.id).where(*conditions).limit(PURGE_CHUNK)).scalars().all()
                if not ids:
                    return total
                session.execute(sa.delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
            total += len(ids)

    def _purge_conversations(self, cutoff: datetime) -> int:
        if self.log is None or not self.log.exists():
            return 0
        table, total = conversation_events, 0
        while True:
            with self.log.engine.begin() as connection:
                ids = connection.execute(
                    sa.select(table.c.id).where(table.c.timestamp < cutoff.timestamp()).limit(PURGE_CHUNK)
                ).scalars().all()
                if not ids:
                    return total
                connection.execute(sa.delete(table).where(table.c.id.in_(ids)))
            total += len(ids)
