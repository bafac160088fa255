"""Resolving a ticket: the one path every resolver takes (a staff member through the ticket service,
an agent in the console, a supervisor closing an outage). The status moves to resolved, and the
customer gets the result and the satisfaction survey through their own channel.

The survey's answers are taken by bot/lifecycle/survey.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy.orm import Session

from bot.customers import Customer
from bot.notices import notice
from bot.storage.models import TicketRow
from bot.tickets.model import SYSTEM, Status
from bot.tickets.rows import add_event, move_row

RESULT_TEXT = "您的工单 {number} 已处理完成。处理结果：{note}"
# What the customer is told when the resolver wrote no message for them (an internal note is never sent).
STANDARD_RESULT_TEXT = "您的工单 {number} 已处理完成。如仍有问题，请直接回复我们。"
SURVEY_TEXT = "请为本次处理打分（1分很不满意，5分非常满意）。问题没有解决也请告诉我们，我们会重新处理。"
SURVEY_BUTTONS = tuple({"title": f"{n}分", "payload": f"/rate_{n}"} for n in (5, 4, 3, 2, 1)) + (
    {"title": "问题没解决", "payload": "/not_solved"},
)


def resolve_row(
    session: Session, row: TicketRow, actor: str, now: datetime, note: str = "", result: Optional[str] = None
) -> None:
    """Move the ticket to resolved (`note` in its history) and send the result (`result`, by default
    the note, or 已处理 without one) and the survey to the customer."""
    move_row(row, Status.RESOLVED, actor, now, note)
    send_result_and_survey(session, row, result if result is not None else (note or "已处理"), now)


def resolve_with_message(
    session: Session, row: TicketRow, actor: str, now: datetime, note: str, message: Optional[str]
) -> None:
    """Resolve with an internal `note` (history only) and a separate `message` for the customer;
    without a message the customer gets the standard text, never the note."""
    move_row(row, Status.RESOLVED, actor, now, note)
    text = RESULT_TEXT.format(number=row.number, note=message) if message else STANDARD_RESULT_TEXT.format(number=row.number)
    _send(session, row, text, now)


def send_result_and_survey(session: Session, row: TicketRow, note: str, now: datetime) -> None:
    """Called when a ticket is resolved: the result, then the survey, through the customer's channel."""
    _send(session, row, RESULT_TEXT.format(number=row.number, note=note), now)


def _send(session: Session, row: TicketRow, text: str, now: datetime) -> None:
    customer = Customer(row.channel, row.channel_user_id)
    notice(session, customer, text, (), now)
    notice(session, customer, SURVEY_TEXT, SURVEY_BUTTONS, now)
    row.survey_sent_at = now
    row.rating = None
    # What the customer was told goes into the history (the archive keeps the whole communication).
    add_event(row, now, SYSTEM, "survey_sent", f"已发送处理结果和满意度调查：{text}")
