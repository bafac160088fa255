"""First contact: the notice every customer gets once per channel (what is collected, why, for
how long, and where the details page is), and the check that production names that page.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import Callable, Dict

from bot.clock import utcnow
from bot.logs import production_profile
from bot.privacy.retention import retention_days
from bot.storage.database import Database
from bot.storage.models import PrivacyNoticeRow
from bot.tickets import Customer


def details_url() -> str:
    """Where the notice's link points: PRIVACY_DETAILS_URL, else the page served with the web chat."""
    url = os.environ.get("PRIVACY_DETAILS_URL", "").strip()
    if url:
        return url
    return f"http://localhost:{os.environ.get('RASA_PORT') or '5005'}/chat/privacy"


def check_details_url() -> None:
    """Refuse to start the production profile without PRIVACY_DETAILS_URL. The fallback points at
    localhost, which only works on the machine the embedded profile runs on: every first-contact
    notice would carry a dead link, and the notice is what 个人信息保护法 requires us to give."""
    if production_profile() and not os.environ.get("PRIVACY_DETAILS_URL", "").strip():
        raise ValueError(
            "PRIVACY_DETAILS_URL must be set when LOG_FORMAT=json (production profile): the public address of "
            "the privacy details page, e.g. https://bot.example.com/chat/privacy"
        )



NOTICE_TEXT = (
    "【个人信息保护提示】为受理您的咨询和投诉，我们会记录对话内容和您提供的联系电话，"
    "仅用于处理、回访和服务质量统计，对话记录保存{days}天。详情：{url}\n"
    "您可以随时发送“查看我的个人信息”或“删除我的个人信息”。"
)


def notice_text() -> str:
    return NOTICE_TEXT.format(days=retention_days(), url=details_url())


class Notices:
    """Whether a customer still has to see the notice; remembered per process so that only a
    customer's first message in a process touches the database."""

    REMEMBERED = 50_000

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._seen: Dict[Customer, None] = {}
        self._lock = threading.Lock()

    def first_contact(self, customer: Customer) -> bool:
        """True exactly once per customer and channel (across processes): show the notice now."""
        with self._lock:
            if customer in self._seen:
                return False
        # One INSERT that does nothing when another process (or an earlier life of this one)
        # recorded this customer already.
        first = self.db.insert_if_absent(
            PrivacyNoticeRow.__table__,
            {"channel": customer.channel, "channel_user_id": customer.user_id, "shown_at": self.clock()},
        )
        with self._lock:
            if len(self._seen) >= self.REMEMBERED:
                self._seen.clear()
            self._seen[customer] = None
        return first

    def forget(self, customer: Customer) -> None:
        with self._lock:
            self._seen.pop(customer, None)
