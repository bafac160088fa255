"""The access log: every read of a customer's data by staff (who, whose, when, from where),
written to ``access_log``; supervisors read it in the console.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Dict, List, Optional

import sqlalchemy as sa

from bot.clock import utcnow
from bot.errors import Forbidden
from bot.staff import StaffMember
from bot.storage.database import Database
from bot.storage.models import AccessLogRow
from bot.tickets import Customer


@dataclass(frozen=True)
class Access:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    channel: Optional[str]
    customer: Optional[str]
    target: str
    client: str


ACCESS_ACTIONS = {
    "view_session": "查看会话",
    "view_transcript": "查看对话记录",
    "view_low_confidence": "查看待复核消息",
    "view_delivery_failures": "查看发送失败的消息",
    "view_privacy_requests": "查看个人信息申请",
    "execute_privacy_request": "执行个人信息申请",
    "reveal_phone": "显示完整号码",
    "view_customer": "查看客户资料",
    "view_ticket": "查看工单",
    "view_attachment": "查看客户证据",
    "search_tickets": "搜索工单",
}

# Deliberate acts, each written even when repeated (showing a full phone number is not a refresh).
ALWAYS_WRITTEN = frozenset({"reveal_phone"})


class AccessLog:
    """Who read whose data, when, from where. Repeated reads of the same thing by the same person
    within `DEDUPE_SECONDS` (a console refreshing a transcript) are written once."""

    DEDUPE_SECONDS = 300.0

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._recent: Dict[tuple, float] = {}
        self._lock = threading.Lock()

    def record(
        self, viewer: StaffMember, action: str, customer: Optional[Customer], target: str = "", client: str = ""
    ) -> bool:
        if action not in ACCESS_ACTIONS:
            raise ValueError(f"unknown access action {action}")
        key = (viewer.username, action, customer, target)
        now = time.monotonic()
        with self._lock:
            if action not in ALWAYS_WRITTEN and now - self._recent.get(key, -1e9) < self.DEDUPE_SECONDS:
                return False
        with self.db.transaction() as session:
            session.add(
                AccessLogRow(
                    at=self.clock(),
                    actor=viewer.username,
                    role=viewer.role.value,
                    action=action,
                    channel=customer.channel if customer else None,
                    channel_user_id=customer.user_id if customer else None,
                    target=str(target)[:64],
                    client=(client or "")[:64],
                )
            )
        # Only a read that is on record may silence the next ones: were the key set before the row
        # was written, a failed write would let a retry read the data with no row at all.
        with self._lock:
            if len(self._recent) > 10_000:
                self._recent = {k: v for k, v in self._recent.items() if now - v < self.DEDUPE_SECONDS}
            self._recent[key] = now
        return True

    def entries(
        self, viewer: StaffMember, actor: Optional[str] = None, customer: Optional[str] = None, limit: int = 200
    ) -> List[Access]:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        with self.db.transaction() as session:
            query = sa.select(AccessLogRow).order_by(AccessLogRow.id.desc()).limit(max(1, min(limit, 1000)))
            if actor:
                query = query.where(AccessLogRow.actor == actor)
            if customer:
                query = query.where(AccessLogRow.channel_user_id == customer)
            rows = session.execute(query).scalars().all()
            return [
                Access(r.id, r.at, r.actor, r.role, r.action, r.channel, r.channel_user_id, r.target, r.client) for r in rows
            ]
