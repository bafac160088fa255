"""The words of a privacy request: its kind, its status, its frozen snapshot, and the result of
a phone check. Also the clock the privacy services default to.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional

from bot.storage.models import PrivacyRequestRow


class Kind(str, enum.Enum):
    ACCESS = "access"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return {"access": "查看个人信息", "delete": "删除个人信息"}[self.value]


class RequestStatus(str, enum.Enum):
    PENDING = "pending"
    DONE = "done"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "待处理", "done": "已完成", "rejected": "已拒绝"}[self.value]


@dataclass(frozen=True)
class PrivacyRequest:
    id: int
    channel: str
    channel_user_id: str
    kind: Kind
    status: RequestStatus
    requested_at: datetime
    verified_by: str
    decided_by: Optional[str]
    decided_at: Optional[datetime]
    note: Optional[str]
    result: Dict[str, Any]

    @classmethod
    def from_row(cls, row: PrivacyRequestRow) -> "PrivacyRequest":
        result = json.loads(row.result) if row.result else {}
        return cls(
            id=row.id,
            channel=row.channel,
            channel_user_id=row.channel_user_id,
            kind=Kind(row.kind),
            status=RequestStatus(row.status),
            requested_at=row.requested_at,
            verified_by=result.get("verified_by", ""),
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            note=row.note,
            result=result,
        )

@dataclass(frozen=True)
class PhoneCheck:
    ok: bool
    tries_left: int  # failed checks still allowed today (0: none, the request cannot be verified today)
