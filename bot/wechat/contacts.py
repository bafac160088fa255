"""What the WeChat channel remembers of a customer (an OpenID) between messages.

* **The 48-hour window.** Customer-service messages (客服消息) may reach a customer only within 48
  hours of their last message; after that a result or a survey needs a template message (模板消息)
  or cannot be delivered. Every message taken in moves the window.
* **Numbered choices.** WeChat has no inline keyboard: buttons go out as a numbered list, and a
  reply of "1", "2", ... (or the button's title) means that button's payload. The last list offered is kept here, so any
  process can read the answer.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Sequence

import sqlalchemy as sa

from bot.clock import utcnow
from bot.errors import Conflict
from bot.storage.database import Database
from bot.storage.models import WeChatContactRow

SERVICE_WINDOW = timedelta(hours=48)
# A little less than WeChat's 48 hours: a message sent at the edge is not refused on the way.
WINDOW_MARGIN = timedelta(minutes=5)
NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)


class WeChatContacts:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def seen(self, openid: str, at: Optional[datetime] = None) -> None:
        """The customer wrote (at `at`, WeChat's CreateTime; now if not given): the window opens again."""
        at = min(at or self.clock(), self.clock())
        with self.db.transaction() as session:
            updated = session.execute(
                sa.update(WeChatContactRow)
                .where(WeChatContactRow.openid == openid, WeChatContactRow.last_message_at < at)
                .values(last_message_at=at)
            ).rowcount
            if updated or session.get(WeChatContactRow, openid) is not None:
                return
        try:
            with self.db.transaction() as session:
                session.add(WeChatContactRow(openid=openid, last_message_at=at))
        except Conflict:
            self.seen(openid, at)  # another process added it meanwhile

    def in_window(self, openid: str) -> bool:
        """Whether a customer-service message may reach the customer now."""
        with self.db.transaction() as session:
            row = session.get(WeChatContactRow, openid)
            last = row.last_message_at if row is not None else None
        return last is not None and self.clock() - last < SERVICE_WINDOW - WINDOW_MARGIN

    def offer(self, openid: str, buttons: Sequence[Dict[str, str]]) -> None:
        """The reply just sent lists these buttons as 1, 2, ...; an empty list withdraws the offer."""
        choices = [{"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")} for b in buttons]
        with self.db.transaction() as session:
            row = session.get(WeChatContactRow, openid)
            if row is None:
                # Offering choices is no message of the customer's: it does not open the window.
                session.add(WeChatContactRow(openid=openid, last_message_at=NEVER, choices=json.dumps(choices, ensure_ascii=False)))
            else:
                row.choices = json.dumps(choices, ensure_ascii=False) if choices else None

    def choice(self, openid: str, answer: str) -> Optional[str]:
        """The payload of the numbered choice the customer answered, or None (not a number on offer).
        The offer stands until the next reply replaces it, so a repeated "1" means the same."""
        answer = answer.strip()
        offered = self._offered(openid)
        for choice in offered:
            if choice["title"] == answer:
                return choice["payload"]
        answer = answer.translate(_FULL_WIDTH_DIGITS)
        number = choice_number(answer)
        if number is None or not numbered(offered):
            return None
        index = number - 1
        return offered[index]["payload"] if 0 <= index < len(offered) else None

    def _offered(self, openid: str) -> List[Dict[str, str]]:
        with self.db.transaction() as session:
            row = session.get(WeChatContactRow, openid)
            raw = row.choices if row is not None else None
        try:
            offered = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [c for c in offered if isinstance(c, dict) and c.get("payload")]


# How people answer a numbered list: 1, １, 1., 1、, 选1, 第1个, 第一个, 一.
# One optional space at each joint, not \s*: runs of spaces made a search quadratic.
_CHOICE = re.compile(r"(?:选择?|第)? ?([0-9０-９]{1,2}|[一二三四五六七八九十]) ?(?:个|项|条|号)? ?[.。、,，)）!！~～]*")
_CHINESE_NUMBERS = {c: n for n, c in enumerate("一二三四五六七八九十", 1)}


def choice_number(answer: str) -> Optional[int]:
    """The number a reply picks from a numbered list, or None when it is not just a pick."""
    match = _CHOICE.fullmatch(answer.strip())
    if match is None:
        return None
    digits = match.group(1)
    return _CHINESE_NUMBERS.get(digits) or int(digits.translate(_FULL_WIDTH_DIGITS))


def numbered(buttons: Sequence[Dict[str, str]]) -> bool:
    """Whether buttons are offered as 1, 2, ...: not when a title starts with a digit itself (the
    survey's "5分" would read as choice 5); then the customer answers with the title."""
    return not any(str(b.get("title") or "")[:1].translate(_FULL_WIDTH_DIGITS).isdigit() for b in buttons)


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
