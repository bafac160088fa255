"""The attachment service: a customer's file in, a stored and linked attachment (or a clear refusal) out.

`accept` decides the type by content (sniff.py), refuses hostile files, re-encodes images
(images.py), enforces the limits (per file, per ticket, per customer and Beijing day), stores the
bytes (store.py) and links the attachment to the customer's latest open ticket with an ``evidence``
event, or holds it for their next complaint (bot/tickets/evidence.py links it then). The bytes are
written before the metadata row and removed again if the row's transaction fails, so a refused or
failed upload leaves nothing behind. Reads (`get`, `content`) answer NotFound for unknown and
deleted attachments alike.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import logs
from bot.attachments import images, sniff
from bot.attachments.model import IMAGE, MAX_FILE_MB, SOURCES, Accepted, Attachment, AttachmentRejected
from bot.attachments.signing import UrlSigner, url_secret
from bot.attachments.store import AttachmentStore, DatabaseStore, DirectoryStore, keys_of
from bot.clock import utcnow
from bot.customers import Customer
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.settings import DEFAULT_ATTACHMENTS_PER_DAY, DEFAULT_ATTACHMENTS_PER_TICKET, Settings
from bot.storage.database import Database
from bot.storage.models import AttachmentLinkUseRow, AttachmentRow, TicketRow
from bot.text import description_from, iso
from bot.ticket_numbers import BEIJING
from bot.tickets import CUSTOMER, Ticket, add_event, evidence_detail, latest_open_row

logger = logging.getLogger(__name__)

DEFAULT_PER_TICKET = DEFAULT_ATTACHMENTS_PER_TICKET
DEFAULT_PER_DAY = DEFAULT_ATTACHMENTS_PER_DAY
MAX_CAPTION = 500
DUPLICATE_WINDOW = timedelta(minutes=10)


class AttachmentService:
    MAX_BYTES = MAX_FILE_MB * 1024 * 1024

    def __init__(
        self,
        db: Database,
        store: AttachmentStore,
        signer: Optional[UrlSigner] = None,
        per_ticket: int = DEFAULT_PER_TICKET,
        per_day: int = DEFAULT_PER_DAY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.store = store
        # Without a signer (tests): a secret of this process only, links to the default port.
        self.signer = signer or UrlSigner(secrets.token_hex(32), "http://localhost:5005")
        self.per_ticket = per_ticket
        self.per_day = per_day
        self.clock = clock

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> "AttachmentService":
        """The store ATTACHMENT_STORE names, the limits and the link signer of `settings`."""
        store = DatabaseStore(db) if settings.attachment_store == "database" else DirectoryStore(settings.attachment_dir)
        secret = url_secret(settings.attachment_url_secret, settings.backend_api_key, settings.backend_secret)
        logs.redact(secret)
        signer = UrlSigner(secret, settings.public_url, settings.attachment_url_seconds)
        return cls(db, store, signer, settings.attachments_per_ticket, settings.attachments_per_day)

    # -- taking a file in -----------------------------------------------------------------

    def accept(
        self, customer: Customer, data: bytes, *, source: str, filename: str = "", caption: str = ""
    ) -> Accepted:
        """Store the file as evidence of the customer's latest open ticket (or hold it for their next
        complaint). `filename` is never used to decide anything: neither the type nor the stored name."""
        if source not in SOURCES:
            raise InvalidInput(f"unknown attachment source {source!r}")
        kind, mime, stored, width, height, thumb = self._safe(data)
        caption = description_from(caption or "")[:MAX_CAPTION]
        again = self._duplicate(customer, hashlib.sha256(stored).hexdigest(), caption)
        if again is not None:
            return again
        attachment_id = secrets.token_urlsafe(16)
        written: List[str] = []
        try:
            self.store.put(attachment_id, stored)
            written.append(attachment_id)
            if thumb is not None:
                self.store.put(keys_of(attachment_id)[1], thumb)
                written.append(keys_of(attachment_id)[1])
            with self.db.transaction() as session:
                now = self.clock()
                self._check_daily(session, customer, now)
                ticket_row = latest_open_row(session, customer)
                self._check_ticket(session, customer, ticket_row.number if ticket_row is not None else None)
                row = AttachmentRow(
                    id=attachment_id, channel=customer.channel, channel_user_id=customer.user_id,
                    ticket_number=ticket_row.number if ticket_row is not None else None, kind=kind, mime=mime,
                    size=len(stored), sha256=hashlib.sha256(stored).hexdigest(), width=width, height=height,
                    source=source, caption=caption, created_at=now,
                )
                session.add(row)
                ticket = None
                if ticket_row is not None:
                    add_event(ticket_row, now, CUSTOMER, "evidence", evidence_detail(kind, attachment_id, caption))
                    session.flush()
                    ticket = Ticket.from_row(ticket_row)
                session.flush()
                attachment = Attachment.from_row(row)
        except BaseException:
            for key in written:
                self._forget(key)
            raise
        logger.info("attachment %s accepted: %s, %d bytes, %s", attachment_id, mime, attachment.size,
                    f"ticket {ticket.number}" if ticket else "held for the next complaint")
        return Accepted(attachment, ticket)

    def _safe(self, data: bytes):
        """(kind, mime, stored bytes, width, height, thumbnail) or AttachmentRejected; never anything else."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise AttachmentRejected("unsupported")
        data = bytes(data)
        if not data:
            raise AttachmentRejected("empty")
        if len(data) > self.MAX_BYTES:
            raise AttachmentRejected("too_large")
        try:
            kind, mime = sniff.sniff(data)
            declared = sniff.check_structure(data, mime)
            if kind != IMAGE:
                return kind, mime, data, None, None, None
            encoded = images.reencode(data, mime, declared)
        except AttachmentRejected as refused:
            logger.info("attachment refused: %s", refused.reason)
            raise
        except Exception as error:  # noqa: BLE001 - a hostile file must never become a crash
            logger.warning("attachment check failed: %s", error.__class__.__name__)
            raise AttachmentRejected("unsupported") from None
        if len(encoded.data) > self.MAX_BYTES:
            raise AttachmentRejected("too_large")
        return kind, mime, encoded.data, encoded.width, encoded.height, encoded.thumbnail

    def _duplicate(self, customer: Customer, sha256: str, caption: str) -> Optional[Accepted]:
        """The same file with the same caption from the same customer a moment ago: a redelivered
        message (WeChat's retries, a turn run again after a crash) is not stored twice; the first copy
        is the answer. Sent again with other words, it is a new piece of evidence."""
        with self.db.transaction() as session:
            row = session.execute(
                sa.select(AttachmentRow).where(
                    *_of(customer), AttachmentRow.sha256 == sha256, AttachmentRow.caption == caption,
                    AttachmentRow.created_at >= self.clock() - DUPLICATE_WINDOW,
                ).order_by(AttachmentRow.created_at).limit(1)
            ).scalar_one_or_none()
            if row is None:
                return None
            ticket = session.execute(sa.select(TicketRow).where(TicketRow.number == row.ticket_number)).scalar_one_or_none()
            return Accepted(Attachment.from_row(row), Ticket.from_row(ticket) if ticket is not None else None)

    def _check_daily(self, session: Session, customer: Customer, now: datetime) -> None:
        local = now.astimezone(BEIJING)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        today = session.execute(
            sa.select(sa.func.count()).select_from(AttachmentRow).where(
                *_of(customer), AttachmentRow.created_at >= day_start
            )
        ).scalar_one()
        if today >= self.per_day:
            raise AttachmentRejected("daily_limit", limit=self.per_day)

    def _check_ticket(self, session: Session, customer: Customer, number: Optional[str]) -> None:
        if number is None:  # held ones all go to the next ticket
            where = (*_of(customer), AttachmentRow.ticket_number.is_(None))
        else:
            where = (AttachmentRow.ticket_number == number,)
        count = session.execute(sa.select(sa.func.count()).select_from(AttachmentRow).where(*where)).scalar_one()
        if count >= self.per_ticket:
            raise AttachmentRejected("ticket_full", limit=self.per_ticket)

    def _forget(self, key: str) -> None:
        try:
            self.store.delete(key)
        except Exception as error:  # noqa: BLE001 - the original failure is what the caller must see
            logger.error("attachment bytes %s not removed: %s", key, error.__class__.__name__)

    # -- reading --------------------------------------------------------------------------

    def get(self, attachment_id: str) -> Attachment:
        with self.db.transaction() as session:
            row = session.get(AttachmentRow, str(attachment_id or "")[:32])
            if row is None:
                raise NotFound("no such attachment")
            return Attachment.from_row(row)

    def content(self, attachment_id: str, *, thumbnail: bool = False) -> bytes:
        """The stored bytes, or the thumbnail (a JPEG; images only: NotFound for a PDF's)."""
        attachment = self.get(attachment_id)
        if thumbnail and attachment.kind != IMAGE:
            raise NotFound("a PDF has no thumbnail")
        return self.store.get(keys_of(attachment.id)[1 if thumbnail else 0])

    def for_ticket(self, number: str) -> List[Attachment]:
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(AttachmentRow).where(AttachmentRow.ticket_number == number)
                .order_by(AttachmentRow.created_at, AttachmentRow.id)
            ).scalars()
            return [Attachment.from_row(row) for row in rows]

    def for_customer(self, customer: Customer, since: Optional[datetime] = None) -> List[Attachment]:
        with self.db.transaction() as session:
            query = sa.select(AttachmentRow).where(*_of(customer))
            if since is not None:
                query = query.where(AttachmentRow.created_at >= since)
            rows = session.execute(query.order_by(AttachmentRow.created_at, AttachmentRow.id)).scalars()
            return [Attachment.from_row(row) for row in rows]

    # -- for the backend ------------------------------------------------------------------

    def documents(self, numbers: Iterable[str], now: Optional[datetime] = None) -> Dict[str, List[dict]]:
        """Each ticket's attachments as the backend sees them (bot.outbox.wire.AttachmentDocument),
        with freshly signed download URLs; tickets without attachments map to []."""
        wanted = sorted(set(numbers))
        found: Dict[str, List[dict]] = {number: [] for number in wanted}
        if not wanted:
            return found
        now = now or self.clock()
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(AttachmentRow).where(AttachmentRow.ticket_number.in_(wanted))
                .order_by(AttachmentRow.created_at, AttachmentRow.id)
            ).scalars().all()
        for row in rows:
            url, expires_at = self.signer.sign(row.id, now)
            found[row.ticket_number].append({
                "id": row.id, "type": row.mime, "kind": row.kind, "size": row.size, "sha256": row.sha256,
                "url": url, "expires_at": iso(expires_at), "created_at": iso(row.created_at),
            })
        return found

    def check_link(
        self, attachment_id: str, expires: str, nonce: str, signature: str, now: Optional[datetime] = None
    ) -> Attachment:
        """The attachment a signed link names, spending the link: Forbidden when it is expired,
        tampered with or was followed before, NotFound when the attachment is gone (a link to a
        deleted file is not spent: there was nothing to give)."""
        now = now or self.clock()
        expires_at = self.signer.check(attachment_id, expires, nonce, signature, now)
        found = self.get(attachment_id)
        try:
            with self.db.transaction() as session:
                session.add(AttachmentLinkUseRow(
                    signature=signature, attachment_id=attachment_id, used_at=now, expires_at=expires_at))
        except Conflict:
            raise Forbidden("the link was already used") from None
        return found

    # -- deleting -------------------------------------------------------------------------

    def delete_bytes(self, attachment_ids: Iterable[str]) -> int:
        """Remove the stored bytes (and thumbnails) of attachments whose rows are gone."""
        count = 0
        for attachment_id in attachment_ids:
            for key in keys_of(attachment_id):
                self._forget(key)
            count += 1
        return count


def _of(customer: Customer):
    return AttachmentRow.channel == customer.channel, AttachmentRow.channel_user_id == customer.user_id

