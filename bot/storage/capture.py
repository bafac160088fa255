"""The capture half of the transactional outbox (bot/outbox/): a `before_flush` hook on every database
session turns each new ticket history row into an outbox row in the same transaction, so a change and
its outbox event commit together or not at all, whichever code path made the change. It also gives
the changed tickets their position in commit order, the cursor of the pull API.

It lives beside the database handle because `Database` installs it on every session factory it
makes, and it needs nothing but the models: the outbox package (dispatcher, admin) builds on the
database, so the hook cannot live there without an import cycle.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Dict

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.customers import backend_customer_id
from bot.storage.models import ChangeCounterRow, OutboxEventRow, TicketEventRow, TicketRow
from bot.text import iso

# Ticket history kinds as the backend sees them; a status change is named after where it went.
_STATUS_KINDS = {"resolved": "resolved", "reopened": "reopened", "closed": "closed"}


def capture(sessions: sessionmaker) -> None:
    """Write an outbox row for every new ticket event flushed by sessions of this factory, and give
    the changed tickets their position in commit order when the transaction commits."""
    sa.event.listen(sessions, "before_flush", _before_flush)
    sa.event.listen(sessions, "before_commit", _number_changes)
    sa.event.listen(sessions, "after_rollback", lambda session: session.info.pop(_CHANGED, None))


_CHANGED = "intake.changed_tickets"


def _number_changes(session: Session) -> None:
    """Positions in commit order for the tickets this transaction changed (the pull API's cursor).

    The counter row is the transaction's last lock, taken just before commit: a transaction that
    holds it waits for nothing else, so no deadlock, and the next one gets a higher value only after
    this one committed. A backend paging on it never misses a change committed late, as it could
    when paging on an application clock read before the transaction began (issue 14, M7).
    """
    session.flush()
    changed = session.info.pop(_CHANGED, None)
    if not changed:
        return
    connection = session.connection()
    counter = ChangeCounterRow.__table__
    if not connection.execute(sa.update(counter).where(counter.c.id == 1).values(value=counter.c.value + 1)).rowcount:
        connection.execute(sa.insert(counter).values(id=1, value=1))  # a store made without the migration's row
    position = connection.execute(sa.select(counter.c.value).where(counter.c.id == 1)).scalar_one()
    for ticket in changed:
        ticket.change_seq = position
    session.flush()
    session.info.pop(_CHANGED, None)


def event_kind(event: TicketEventRow) -> str:
    if event.kind == "status_changed":
        target = (event.detail or "").split("->", 1)[-1].strip().split(":", 1)[0].strip()
        return _STATUS_KINDS.get(target, "status_changed")
    return event.kind


def ticket_snapshot(ticket: TicketRow) -> Dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "category": ticket.category,
        "severity": ticket.severity,
        "severity_reason": ticket.severity_reason,
        "department": ticket.department,
        "responsible": ticket.responsible,
        "channel": ticket.channel,
        "customer_id": backend_customer_id(ticket.channel, ticket.channel_user_id),
        "contact_phone": ticket.contact_phone,
        "description": ticket.description,
        "created_at": iso(ticket.created_at),
        "response_due": iso(ticket.response_due),
        "resolve_due": iso(ticket.resolve_due),
        "progress_due": iso(ticket.progress_due),
        "repeat_of": ticket.repeat_of,
        "repeat_count": ticket.repeat_count or 0,
        "escalation_level": ticket.escalation_level or 0,
        "handler": ticket.handler,
        "rating": ticket.rating,
        # Signed links expire: the outbox dispatcher and the pull API fill this in when they send.
        "attachments": [],
    }



def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    now = utcnow()
    for obj in list(session.new):
        if not isinstance(obj, TicketEventRow):
            continue
        ticket = obj.ticket if obj.ticket is not None else session.get(TicketRow, obj.ticket_id)
        if ticket is None:
            raise ValueError("a ticket event without its ticket cannot be sent to the backend")
        # Every event is a change: pulling backends page on its position in commit order.
        if ticket.updated_at is None or (obj.at is not None and obj.at > ticket.updated_at):
            ticket.updated_at = obj.at
        session.info.setdefault(_CHANGED, set()).add(ticket)
        kind = event_kind(obj)
        payload = {
            "kind": kind,
            "occurred_at": iso(obj.at),
            "actor": obj.actor,
            "detail": obj.detail or "",
            "ticket": ticket_snapshot(ticket),
        }
        session.add(
            OutboxEventRow(
                ticket_event=obj,
                ticket_number=ticket.number,
                kind=kind,
                idempotency_key=uuid.uuid4().hex,
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )

