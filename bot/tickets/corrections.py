"""Staff correcting a ticket's facts: its category (the department and deadlines follow the category
rules), its severity (with a required reason) and the customer's contact phone (landlines allowed).

Row rules only, for callers inside their own transaction; each change is written to the history
with who and why. Deadlines are recomputed from the creation time, so a correction can relax them as
well as tighten them (unlike `raise_severity_row`, which only ever raises).
"""

from __future__ import annotations

from datetime import datetime

from bot import deadlines
from bot.categories import Category
from bot.errors import InvalidInput
from bot.severity import Severity
from bot.storage.models import TicketRow
from bot.text import contact_phone_from, mask_phone
from bot.tickets.rows import add_event


def _reason(reason: str, required: bool) -> str:
    reason = (reason or "").strip()[:255]
    if required and not reason:
        raise InvalidInput("a correction needs a reason")
    return reason


def _recompute(row: TicketRow) -> None:
    due = deadlines.compute(row.created_at, Category(row.category), Severity(row.severity))
    row.response_due, row.resolve_due = due.response_due, due.resolve_due


def change_category_row(row: TicketRow, category: str, actor: str, now: datetime, reason: str = "") -> None:
    try:
        new = Category(category)
    except ValueError:
        raise InvalidInput(f"unknown category {category!r}") from None
    old = Category(row.category)
    if new is old:
        raise InvalidInput("the ticket already has this category")
    reason = _reason(reason, required=False)
    row.category = new.value
    row.department = new.department.value
    _recompute(row)
    add_event(row, now, actor, "category_changed", f"{old.value} -> {new.value}" + (f" ({reason})" if reason else ""))


def change_severity_row(row: TicketRow, severity: str, actor: str, now: datetime, reason: str) -> None:
    try:
        new = Severity(severity)
    except ValueError:
        raise InvalidInput(f"unknown severity {severity!r}") from None
    reason = _reason(reason, required=True)
    old = Severity(row.severity)
    if new is old:
        raise InvalidInput("the ticket already has this severity")
    row.severity = new.value
    row.severity_reason = reason
    _recompute(row)
    add_event(row, now, actor, "severity_changed", f"{old.value} -> {new.value} ({reason})")


def change_phone_row(row: TicketRow, phone: str, actor: str, now: datetime, reason: str = "") -> None:
    number = contact_phone_from(phone)
    if number is None:
        raise InvalidInput("not a mobile number or a landline with its area code")
    reason = _reason(reason, required=False)
    old = mask_phone(row.contact_phone or "")
    row.contact_phone = number
    # The history is read widely (and pushed to the backend): masked numbers only.
    add_event(row, now, actor, "contact_phone_changed", f"{old} → {mask_phone(number)}" + (f"（{reason}）" if reason else ""))
