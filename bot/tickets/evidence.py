"""Evidence on a ticket: the history line that names an attachment, and linking the attachments a
customer sent before complaining to the ticket they then file.

The files themselves are the attachment service's (bot/attachments/); a ticket only records, as an
``evidence`` event, that one arrived: ``"图片 <id> 说明：…"`` (``"文件 <id>"`` for a PDF).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.customers import Customer
from bot.storage.models import AttachmentRow, TicketEventRow, TicketRow
from bot.tickets.model import CUSTOMER

# Attachments sent before a complaint wait this long for it (then retention deletes them).
EVIDENCE_HOLD = timedelta(days=1)
KIND_LABELS = {"image": "图片", "pdf": "文件"}


def evidence_detail(kind: str, attachment_id: str, caption: str = "") -> str:
    detail = f"{KIND_LABELS.get(kind, '文件')} {attachment_id}"
    return detail + (f" 说明：{caption}" if caption else "")


def link_held_attachments(session: Session, row: TicketRow, customer: Customer, now: datetime) -> int:
    """Link the customer's held attachments of the last EVIDENCE_HOLD to the new ticket `row`,
    each with its evidence event; returns how many."""
    held = session.execute(
        sa.select(AttachmentRow)
        .where(
            AttachmentRow.channel == customer.channel,
            AttachmentRow.channel_user_id == customer.user_id,
            AttachmentRow.ticket_number.is_(None),
            AttachmentRow.created_at >= now - EVIDENCE_HOLD,
        )
        .order_by(AttachmentRow.created_at, AttachmentRow.id)
    ).scalars().all()
    for item in held:
        item.ticket_number = row.number
        row.events.append(
            TicketEventRow(at=now, actor=CUSTOMER, kind="evidence", detail=evidence_detail(item.kind, item.id, item.caption))
        )
    return len(held)
