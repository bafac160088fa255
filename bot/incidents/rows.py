"""Row-level helpers of the incident service, each used inside the caller's transaction: the
advisory locks that serialise intake per match key, incident lookups, links between tickets and
incidents, and the snapshot with its counts.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from typing import Dict, Iterable, List, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.customers import Customer
from bot.errors import Forbidden, NotFound, WrongState
from bot.incidents.rules import Rules
from bot.incidents.snapshots import Incident, LinkedTicket
from bot.staff import StaffMember
from bot.storage.models import IncidentRow, TicketRow
from bot.tickets.model import OPEN_STATUSES, Status
from bot.tickets.rows import add_event

_OPEN_TICKETS = [s.value for s in OPEN_STATUSES]
_LOCK_SPACE = 0x6F757461  # first key of the two-key advisory locks taken here ("outa")


def serialise(session: Session, keys: Sequence[str]) -> None:
    """Hold a transaction-scoped lock per match key (PostgreSQL), always in the same order."""
    if session.bind.dialect.name != "postgresql":
        return
    for lock in sorted({zlib.crc32(key.encode()) - 2**31 for key in keys}):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_SPACE, "key": lock})


def require_supervisor(viewer: StaffMember) -> None:
    if not viewer.is_supervisor:
        raise Forbidden("supervisors only")


_INCIDENT_NUMBER = re.compile(r"GZ\d{6}-[0-9A-HJKMNP-TV-Z]{6}")


def locked_incident(session: Session, number: str, open_only: bool = False) -> IncidentRow:
    """The incident, serialised with intake on its key and row-locked; open ones only if asked."""
    serialise(session, [incident_row(session, number).match_key])
    incident = incident_row(session, number, lock=True)
    if open_only and incident.status != "open":
        raise WrongState(f"incident {incident.number} is closed")
    return incident


def incident_row(session: Session, number: str, lock: bool = False) -> IncidentRow:
    number = (number or "").strip().upper()
    if not _INCIDENT_NUMBER.fullmatch(number):
        raise NotFound(number)
    query = sa.select(IncidentRow).where(IncidentRow.number == number)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(number)
    return row


def linked_rows(session: Session, incident: IncidentRow) -> List[TicketRow]:
    return list(
        session.execute(
            sa.select(TicketRow).where(TicketRow.incident_id == incident.id).order_by(TicketRow.id).with_for_update()
        ).scalars()
    )


def customers_of(tickets: Iterable[TicketRow]) -> List[Customer]:
    """Each customer once, in the order of their first linked ticket."""
    seen: Dict[Customer, None] = {}
    for row in tickets:
        seen.setdefault(Customer(row.channel, row.channel_user_id), None)
    return list(seen)


def link_row(session: Session, row: TicketRow, incident: IncidentRow, actor: str, now: datetime) -> None:
    row.incident_id = incident.id
    add_event(row, now, actor, "incident_linked", f"{incident.number}（{incident.match_key}）")


def incident_snapshot(session: Session, rules: Rules, row: IncidentRow, with_tickets: bool = False) -> Incident:
    counts = session.execute(
        sa.select(
            sa.func.count(TicketRow.id),
            sa.func.sum(sa.case((TicketRow.status.in_(_OPEN_TICKETS), 1), else_=0)),
            sa.func.count(sa.distinct(TicketRow.channel + ":" + TicketRow.channel_user_id)),
        ).where(TicketRow.incident_id == row.id)
    ).one()
    tickets: Tuple[LinkedTicket, ...] = ()
    if with_tickets:
        tickets = tuple(
            LinkedTicket(number, Status(status), created)
            for number, status, created in session.execute(
                sa.select(TicketRow.number, TicketRow.status, TicketRow.created_at)
                .where(TicketRow.incident_id == row.id)
                .order_by(TicketRow.created_at, TicketRow.id)
            )
        )
    return Incident(
        id=row.id, number=row.number, status=row.status, area=row.area, symptom=row.symptom,
        symptom_label=rules.label_of(row.symptom), match_key=row.match_key, title=row.title,
        opened_at=row.opened_at, opened_by=row.opened_by, eta=row.eta, note=row.note, closed_at=row.closed_at,
        closed_by=row.closed_by, resolution=row.resolution, linked=int(counts[0] or 0), linked_open=int(counts[1] or 0),
        customers=int(counts[2] or 0), tickets=tickets,
    )
