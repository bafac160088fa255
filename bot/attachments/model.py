"""What an evidence attachment is, and how a refused file is explained to the customer.

`AttachmentRejected` carries a machine code (`reason`) for tests, logs and adapters, and one clear
Chinese sentence (`text`) that every channel shows the customer as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Optional

from bot.errors import InvalidInput
from bot.tickets import Ticket

IMAGE, PDF = "image", "pdf"
SOURCES = ("webchat", "telegram", "wechat")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
MAX_FILE_MB = 5

# The customer's answer for each reason a file is refused.
REJECTION_TEXTS = {
    "empty": "收到的文件是空的，请重新发送。",
    "too_large": f"文件太大了（超过{MAX_FILE_MB}MB），请压缩或只截取关键部分后再发送。",
    "unsupported": "暂时只能接收 JPG、PNG、WebP 格式的图片或 PDF 文件，请换成这些格式后再发送。",
    "truncated": "图片文件不完整，请重新截图后再发送。",
    "truncated_pdf": "PDF 文件不完整，请重新导出后再发送。",
    "bomb": "图片尺寸过大，无法处理，请截图后再发送。",
    "polyglot": "文件内容异常，无法作为证据接收，请重新截图或导出后再发送。",
    "pdf_active": "PDF 文件中含有脚本或附件，无法作为证据接收，请导出为普通 PDF 或截图后再发送。",
    "ticket_full": "这张工单的证据已经够多了（最多{limit}个），如需补充请联系人工客服。",
    "daily_limit": "您今天发送的文件已达上限（{limit}个），请明天再发送。",
}


class AttachmentRejected(InvalidInput):
    """A file that is not stored: `reason` is the machine code, `text` the customer's sentence.

    An `InvalidInput` (so an `IntakeError`): HTTP adapters answer 400 unless they say more."""

    def __init__(self, reason: str, text: Optional[str] = None, **values: object) -> None:
        code = "truncated" if reason == "truncated_pdf" else "polyglot" if reason == "pdf_active" else reason
        super().__init__(f"attachment rejected: {code}")
        self.reason = code
        self.text = text or REJECTION_TEXTS[reason].format(**values)


@dataclass(frozen=True)
class Attachment:
    """A stored file, after re-encoding: `size` and `sha256` are those of the stored bytes."""

    id: str  # random and unguessable (secrets.token_urlsafe(16)), never a sequence number
    channel: str
    channel_user_id: str  # the customer
    ticket_number: Optional[str]  # None while held for the customer's next complaint
    kind: str  # "image" or "pdf"
    mime: str  # image/jpeg | image/png | image/webp | application/pdf
    size: int
    sha256: str
    width: Optional[int]
    height: Optional[int]
    source: str  # "webchat" | "telegram" | "wechat"
    caption: str
    created_at: datetime

    @classmethod
    def from_row(cls, row) -> "Attachment":  # row: bot.storage.models.AttachmentRow
        return cls(
            id=row.id, channel=row.channel, channel_user_id=row.channel_user_id, ticket_number=row.ticket_number,
            kind=row.kind, mime=row.mime, size=row.size, sha256=row.sha256, width=row.width, height=row.height,
            source=row.source, caption=row.caption or "", created_at=row.created_at,
        )


class Accepted(NamedTuple):
    attachment: Attachment
    ticket: Optional[Ticket]  # None: held for the customer's next complaint
