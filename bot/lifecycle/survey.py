"""Feedback (反馈 → 跟踪): the customer's answer to the satisfaction survey (1–5 or 没解决, by button
or in words) closes the ticket, or reopens it to the same responsible person with a follow-up call
(回访) when the customer is not satisfied.

The result and the survey themselves are sent when a ticket is resolved (bot/tickets/resolution.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Callable, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import deadlines
from bot.categories import Category
from bot.clock import utcnow
from bot.customers import Customer
from bot.feed import feed_event
from bot.severity import Severity
from bot.storage.database import Database
from bot.storage.models import TicketRow
from bot.text import beijing_time
from bot.tickets.model import SYSTEM, Status
from bot.tickets.rows import PROGRESS_INTERVAL, add_event, move_row

SURVEY_WINDOW = timedelta(hours=72)  # how long a survey stays answerable
FOLLOW_UP_WITHIN = timedelta(hours=24)

THANKS_TEXT = "感谢您的评价！工单 {number} 已办结。如需补充意见，可以发送“评价：您的意见”。"
REOPENED_TEXT = "很抱歉没能让您满意。工单 {number} 已重新处理，负责人会在 {due} 前回访您。"
COMMENT_TEXT = "已记录您的意见，谢谢！"

# A score needs its unit (a bare "2" may answer a numbered list in an FAQ reply) or the button.
_RATING = re.compile(r"^(?:/rate_([1-5])|([1-5])\s*分|([一二三四五])\s*分)$")
_NOT_SOLVED = re.compile(r"^(?:/not_solved|没解决|没有解决|问题没解决|还没解决)$")
_COMMENT = re.compile(r"^评价[:：]\s*(.+)$", re.S)
SURVEY_PAYLOAD = re.compile(r"^/(?:rate_[1-5]|not_solved)$")
SURVEY_CLOSED_TEXT = "这次满意度调查已经结束了，感谢您的反馈。还有问题可以直接告诉我。"
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def parse_rating(text: str) -> Tuple[Optional[int], bool]:
    """(score, not_solved) from a survey answer; (None, False) when it is not one."""
    text = re.sub(r"[\s。！!]+$", "", (text or "").strip())
    if _NOT_SOLVED.match(text):
        return None, True
    match = _RATING.match(text)
    if not match:
        return None, False
    digit = match.group(1) or match.group(2)
    return (int(digit) if digit else _CHINESE_DIGITS[match.group(3)]), False


def looks_like_survey_answer(text: str) -> bool:
    """Cheap check before touching the database: only these messages can answer a survey."""
    score, not_solved = parse_rating(text)
    return score is not None or not_solved or bool(_COMMENT.match((text or "").strip()))


class Feedback:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def answer(self, customer: Customer, text: str) -> Optional[str]:
        """Take a survey answer or comment; the reply for the customer, or None if it was not one."""
        if not looks_like_survey_answer(text):
            return None
        now = self.clock()
        score, not_solved = parse_rating(text)
        comment = _COMMENT.match((text or "").strip())
        with self.db.transaction() as session:
            if comment:
                row = self._latest(session, customer, rated=True)
                if row is None:
                    return None
                row.rating_comment = comment.group(1).strip()[:2000]
                add_event(row, now, "customer", "rating_comment", row.rating_comment)
                return COMMENT_TEXT
            row = self._latest(session, customer, rated=False)
            if row is None:
                return None
            row.rating = score if score is not None else 1
            row.rated_at = now
            label = "问题没解决" if not_solved else f"{score}分"
            add_event(row, now, "customer", "rated", f"满意度：{label}")
            if not_solved or row.rating <= 2:
                move_row(row, Status.REOPENED, "customer", now, f"客户评价：{label}")
                row.follow_up_due = now + FOLLOW_UP_WITHIN
                row.progress_due = now + PROGRESS_INTERVAL
                # Handled again: a fresh resolution deadline by the same rules, watched again.
                due = deadlines.compute(now, Category(row.category), Severity(row.severity))
                row.resolve_due, row.resolve_breached_at = due.resolve_due, None
                feed_event(session, now, "reopened", "customer", row.number)
                add_event(row, now, SYSTEM, "follow_up_scheduled", f"回访：{row.responsible or '负责人'} 应于 {beijing_time(row.follow_up_due)} 前回访客户")
                return REOPENED_TEXT.format(number=row.number, due=beijing_time(row.follow_up_due))
            move_row(row, Status.CLOSED, "customer", now, f"客户评价：{label}")
            return THANKS_TEXT.format(number=row.number)

    def _latest(self, session: Session, customer: Customer, rated: bool) -> Optional[TicketRow]:
        since = self.clock() - SURVEY_WINDOW
        query = sa.select(TicketRow).where(
            TicketRow.channel == customer.channel,
            TicketRow.channel_user_id == customer.user_id,
            TicketRow.survey_sent_at >= since,
        )
        if rated:
            query = query.where(TicketRow.rating.isnot(None), TicketRow.rated_at >= since)
        else:
            query = query.where(TicketRow.rating.is_(None), TicketRow.status == Status.RESOLVED.value)
        query = query.order_by(TicketRow.survey_sent_at.desc()).limit(1).with_for_update()
        return session.execute(query).scalar_one_or_none()
