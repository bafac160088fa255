"""The rules that change a ticket row, for code that works inside its own transaction: the ticket
service, the lifecycle, incidents and handoff all call these, so each rule has one home.

Callers hold the transaction; nothing here commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import deadlines, ticket_numbers
from bot.categories import Category
from bot.customers import Customer
from bot.errors import InvalidInput, NotFound
from bot.severity import Assessment, Severity
from bot.storage.models import TicketEventRow, TicketRow
from bot.tickets.model import BOT, CUSTOMER, OPEN_STATUSES, TRANSITIONS, Status

PROGRESS_INTERVAL = timedelta(hours=24)
RESPONSIBILITY_KINDS = ("assigned", "transferred", "reassigned")


def find_row(session: Session, number: str, lock: bool = True) -> TicketRow:
    """The ticket with this number (any spelling `ticket_numbers.find` accepts); NotFound otherwise.

    Locked by default: every change of a ticket (and its outbox event) is serialised on its row."""
    canonical = ticket_numbers.find(number or "")
    row = None
    if canonical is not None:
        query = sa.select(TicketRow).where(TicketRow.number == canonical)
        if lock:
            query = query.with_for_update()
        row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(number)
    return row


def latest_open_row(session: Session, customer: Customer) -> Optional[TicketRow]:
    """The customer's newest open ticket, if any."""
    return session.execute(
        sa.select(TicketRow)
        .where(
            TicketRow.channel == customer.channel,
            TicketRow.channel_user_id == customer.user_id,
            TicketRow.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()


def add_event(row: TicketRow, now: datetime, actor: str, kind: str, detail: str) -> None:
    """Append to the ticket's history (which also reaches the backend through the outbox)."""
    row.events.append(TicketEventRow(at=now, actor=actor, kind=kind, detail=detail))
    row.updated_at = now


def move_row(row: TicketRow, to: Status, actor: str, now: datetime, note: str = "") -> None:
    current = Status(row.status)
    if to not in TRANSITIONS[current]:
        raise InvalidInput(f"a {current.value} ticket cannot become {to.value}")
    row.status = to.value
    if to in (Status.IN_PROGRESS, Status.RESOLVED) and actor not in (CUSTOMER, BOT):
        row.responded_at = row.responded_at or now
    detail = f"{current.value} -> {to.value}" + (f": {note}" if note else "")
    row.events.append(TicketEventRow(at=now, actor=actor, kind="status_changed", detail=detail))
    if not to.is_open:
        row.progress_due = None
    row.updated_at = now


def assign_row(
    row: TicketRow, person: str, actor: str, now: datetime, reason: str = "", kind: str = "assigned"
) -> None:
    """Make `person` responsible (责任人), with who, when and why in the history; `kind` says how
    (first assignment, a transfer the receiver accepted, a supervisor's reassignment).

    The new responsible person owes the customer a progress update within 24 hours.
    """
    assert kind in RESPONSIBILITY_KINDS
    detail = f"{row.responsible or '-'} -> {person}" + (f": {reason}" if reason else "")
    row.events.append(TicketEventRow(at=now, actor=actor, kind=kind, detail=detail))
    row.responsible = person
    row.responded_at = row.responded_at or now  # a named person has taken the complaint up
    if Status(row.status) in (Status.NEW, Status.REOPENED):
        move_row(row, Status.ASSIGNED, actor, now)
    if Status(row.status).is_open:
        row.progress_due = now + PROGRESS_INTERVAL
    row.updated_at = now


def raise_severity_row(row: TicketRow, assessment: Assessment, now: datetime, actor: str = BOT) -> None:
    """Raise (never lower) the severity and recompute the deadlines from the creation time."""
    if assessment.severity.rank <= Severity(row.severity).rank:
        return
    due = deadlines.compute(row.created_at, Category(row.category), assessment.severity)
    row.events.append(
        TicketEventRow(
            at=now,
            actor=actor,
            kind="severity_changed",
            detail=f"{row.severity} -> {assessment.severity.value} ({assessment.reason})",
        )
    )
    row.severity = assessment.severity.value
    row.severity_reason = assessment.reason
    row.response_due = min(row.response_due, due.response_due)
    row.resolve_due = min(row.resolve_due, due.resolve_due)
