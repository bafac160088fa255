"""Outage detection (故障聚合): many network complaints about one place or one symptom become one
parent incident that supervisors handle and close for everyone at once.

* **Rules** (bot/incident_rules.py) come from a YAML file (bot/outage_rules.yml, or OUTAGE_RULES_FILE),
  re-read whenever it changes: areas, address patterns, symptoms, thresholds, window, texts.
* **Intake** (`IncidentService.consider`), after a network ticket is filed: its area (from the text, else
  from the customer's latest earlier ticket) and symptom are stored on it. If an open incident matches,
  the ticket is linked and the customer is told the known fault and its expected recovery instead of
  waiting for an agent. Otherwise matching unlinked complaints of the window are counted; at the
  threshold an incident opens with all of them linked, and the consoles are told through the change feed.
  Two processes racing to open the same incident end with one: the partial unique index on the open
  incidents' match_key lets one insert win, the other links to it.
* **Supervisors** list incidents, set the expected recovery time and a note (optionally telling the
  linked customers), open one by hand, link or unlink a ticket, and close it with a resolution: every
  linked open ticket is resolved through the usual path (result and satisfaction survey to the customer,
  history to the backend) and every linked customer is told once that the service is back.

Ticket links and unlinks are ticket history rows, so the backend receives them through the outbox.
"""

from __future__ import annotations

import logging
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import ticket_numbers
from bot.categories import Category
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.incident_rules import RuleBook, Rules, match_key
from bot.notices import notice
from bot.staff import StaffMember
from bot.storage.database import Database
from bot.storage.models import HandoffEventRow, IncidentRow, TicketEventRow, TicketRow
from bot.text import beijing_time
from bot.tickets import OPEN_STATUSES, Customer, Status, move_row

logger = logging.getLogger(__name__)

SYSTEM = "system"
_OPEN_TICKETS = [s.value for s in OPEN_STATUSES]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- snapshots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedTicket:
    number: str
    status: Status
    created_at: datetime


@dataclass(frozen=True)
class Incident:
    id: int
    number: str
    status: str
    area: Optional[str]
    symptom: Optional[str]
    symptom_label: str
    match_key: str
    title: str
    opened_at: datetime
    opened_by: str
    eta: Optional[datetime]
    note: Optional[str]
    closed_at: Optional[datetime]
    closed_by: Optional[str]
    resolution: Optional[str]
    linked: int
    linked_open: int
    customers: int
    tickets: Tuple[LinkedTicket, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status == "open"


PHONES_PER_SOURCE = 2


def distinct_customers(tickets: Sequence[TicketRow]) -> Set[str]:
    """The customers behind complaints, as far as the threshold is concerned: one per contact phone,
    and at most `PHONES_PER_SOURCE` phones from one source.

    Tickets, sessions and channel accounts cost an attacker nothing (a fresh web-chat session is a new
    account); a phone number is the one thing each real customer brings. Complaints without a phone do
    not count toward opening an incident, and one phone counts once however often it complains. The
    phone is not verified by SMS here, so one client could still make up numbers: a source (the
    pseudonym of the network address a complaint came from, or the channel account where there is no
    address, as on Telegram) adds at most two. Two, not one: neighbours on one mobile carrier's NAT
    share an address, and a family reports from one home.
    """
    counted: Set[str] = set()
    per_source: Dict[str, int] = {}
    for ticket in sorted(tickets, key=lambda t: (t.created_at, t.id or 0)):
        phone = ticket.contact_phone
        if not phone or phone in counted:
            continue
        source = ticket.origin or f"{ticket.channel}:{ticket.channel_user_id}"
        if per_source.get(source, 0) >= PHONES_PER_SOURCE:
            continue
        per_source[source] = per_source.get(source, 0) + 1
        counted.add(phone)
    return counted


@dataclass(frozen=True)
class Outcome:
    """What intake made of a network ticket."""

    ticket_number: str
    area: Optional[str]
    symptom: Optional[str]
    incident: Optional[Incident] = None
    opened: bool = False  # this ticket's arrival opened the incident
    customer_text: Optional[str] = None  # the known-fault notice, when linked

    @property
    def linked(self) -> bool:
        return self.incident is not None


def new_incident_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(ticket_numbers.ALPHABET) for _ in range(6))
    return f"GZ{now.astimezone(ticket_numbers.BEIJING):%y%m%d}-{suffix}"


def subject(area: Optional[str], symptom_label: str) -> str:
    """How the fault is named to customers: 阳光花园一带的手机没信号问题."""
    if area:
        return f"{area}一带的{symptom_label}问题"
    return f"多个地区的{symptom_label}问题"


# -- the service -------------------------------------------------------------------------------


class IncidentService:
    def __init__(
        self, db: Database, clock: Callable[[], datetime] = _utcnow, rules: Optional[RuleBook] = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules or RuleBook()

    # -- intake ---------------------------------------------------------------------------

    def consider(self, number: str) -> Outcome:
        """Classify a freshly filed network ticket and link it to an open or newly opened incident.

        Safe to call again for the same ticket (a retried action): a linked ticket stays linked.
        """
        rules = self.rules.current()
        with self.db.transaction() as session:
            row = _ticket(session, number)
            if row.category != Category.NETWORK.value:
                return Outcome(row.number, None, None)
            if row.incident_id is not None:
                incident = session.get(IncidentRow, row.incident_id)
                return self._outcome(session, rules, row, incident, False)
            if row.area is None and row.symptom is None:
                row.area = (rules.area_of(row.description) or self._account_area(session, row) or None)
                row.symptom = rules.symptom_of(row.description)
                if row.area:
                    row.area = row.area[:64]
            area, symptom = row.area, row.symptom
        if not rules.keys(area, symptom):
            return Outcome(number, area, symptom)
        # In a transaction of its own, after the ticket's area is committed: whichever of several
        # concurrent complaints commits last counts them all.
        for attempt in range(3):
            try:
                return self._link_or_open(number, rules)
            except Conflict:  # another process opened the same incident first: link to theirs
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _link_or_open(self, number: str, rules: Rules) -> Outcome:
        now = self.clock()
        with self.db.transaction() as session:
            # Not locked yet: an opener locks the matching tickets in id order, and must not wait
            # for one that waits for it.
            row = _ticket(session, number, lock=False)
            keys = rules.keys(row.area, row.symptom)
            # One intake at a time per key (PostgreSQL; SQLite has one writer anyway): each sees what
            # the one before committed, so the count is right and no two openers fight over rows.
            _serialise(session, [key for _, key in keys])
            session.refresh(row)
            if row.incident_id is not None:  # linked meanwhile by an incident opened elsewhere
                return self._outcome(session, rules, row, session.get(IncidentRow, row.incident_id), False)
            open_incidents = {
                i.match_key: i
                for i in session.execute(
                    sa.select(IncidentRow).where(
                        IncidentRow.status == "open", IncidentRow.match_key.in_([key for _, key in keys])
                    )
                ).scalars()
            }
            for _, key in keys:
                if key in open_incidents:
                    incident = open_incidents[key]
                    row = _ticket(session, number)
                    if row.incident_id is not None:
                        return self._outcome(session, rules, row, session.get(IncidentRow, row.incident_id), False)
                    _link(session, row, incident, SYSTEM, now)
                    _feed(session, now, "incident_linked", SYSTEM, incident.number)
                    session.flush()
                    return self._outcome(session, rules, row, incident, False)
            since = now - rules.window
            for kind, key in keys:
                threshold = rules.thresholds.get(kind) or 0
                if threshold <= 0:
                    continue
                matching = self._recent_unlinked(session, kind, row, since)
                if len(distinct_customers(matching)) < threshold:
                    continue
                incident = IncidentRow(
                    number=new_incident_number(now),
                    status="open",
                    category=Category.NETWORK.value,
                    area=row.area if kind != "symptom" else None,
                    symptom=row.symptom if kind != "area" else None,
                    match_key=key,
                    title="",
                    opened_at=now,
                    opened_by=SYSTEM,
                    eta=now + rules.default_eta,
                    updated_at=now,
                )
                incident.title = f"疑似区域故障：{subject(incident.area, rules.label_of(incident.symptom))}"[:255]
                session.add(incident)
                session.flush()  # the unique index decides here who opened it
                for ticket in matching:
                    _link(session, ticket, incident, SYSTEM, now)
                _feed(session, now, "incident_opened", SYSTEM, f"{incident.number} {len(matching)}")
                session.flush()
                logger.warning(
                    "incident %s opened: %s, %d complaints in %s", incident.number, key, len(matching), rules.window
                )
                return self._outcome(session, rules, row, incident, True)
            return Outcome(row.number, row.area, row.symptom)

    @staticmethod
    def _recent_unlinked(session: Session, kind: str, row: TicketRow, since: datetime) -> List[TicketRow]:
        query = sa.select(TicketRow).where(
            TicketRow.category == Category.NETWORK.value,
            TicketRow.created_at >= since,
            TicketRow.incident_id.is_(None),
        )
        if kind in ("area_symptom", "area"):
            query = query.where(TicketRow.area == row.area)
        if kind in ("area_symptom", "symptom"):
            query = query.where(TicketRow.symptom == row.symptom)
        # Locked in id order, so concurrent openers never deadlock; rows linked meanwhile drop out.
        return list(session.execute(query.order_by(TicketRow.id).with_for_update()).scalars())

    @staticmethod
    def _account_area(session: Session, row: TicketRow) -> Optional[str]:
        """Where the customer was on their latest earlier ticket: their account, as far as we know it."""
        return session.execute(
            sa.select(TicketRow.area)
            .where(
                TicketRow.channel == row.channel,
                TicketRow.channel_user_id == row.channel_user_id,
                TicketRow.id != row.id,
                TicketRow.area.isnot(None),
            )
            .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def _outcome(
        self, session: Session, rules: Rules, row: TicketRow, incident: Optional[IncidentRow], opened: bool
    ) -> Outcome:
        if incident is None:
            return Outcome(row.number, row.area, row.symptom)
        snapshot = _snapshot(session, rules, incident)
        text = None
        if incident.status == "open":
            text = rules.text(
                "known_fault",
                subject=subject(incident.area, snapshot.symptom_label),
                incident=incident.number,
                eta=beijing_time(incident.eta) if incident.eta else "尽快",
                ticket=row.number,
            )
        return Outcome(row.number, row.area, row.symptom, snapshot, opened, text)

    # -- supervisors ----------------------------------------------------------------------

    def list(self, viewer: StaffMember, limit: int = 50) -> List[Incident]:
        """Open incidents first (newest first), then recently closed ones."""
        _supervisor(viewer)
        rules = self.rules.current()
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(IncidentRow)
                .order_by(sa.case((IncidentRow.status == "open", 0), else_=1), IncidentRow.opened_at.desc(), IncidentRow.id.desc())
                .limit(limit)
            ).scalars().all()
            return [_snapshot(session, rules, r) for r in rows]

    def get(self, viewer: StaffMember, number: str) -> Incident:
        _supervisor(viewer)
        rules = self.rules.current()
        with self.db.transaction() as session:
            return _snapshot(session, rules, _incident(session, number), with_tickets=True)

    def open(
        self, viewer: StaffMember, area: Optional[str], symptom: Optional[str], eta: Optional[datetime] = None, note: str = ""
    ) -> Incident:
        """A supervisor opens an incident by hand (e.g. a planned works or a fault reported by the network team)."""
        _supervisor(viewer)
        rules = self.rules.current()
        area = (area or "").strip()[:64] or None
        symptom = (symptom or "").strip() or None
        if symptom is not None and symptom not in {s.code for s in rules.symptoms}:
            raise InvalidInput(f"unknown symptom {symptom!r}")
        if area is None and symptom is None:
            raise InvalidInput("an incident needs an area or a symptom")
        now = self.clock()
        if eta is not None and eta <= now:
            raise InvalidInput("the expected recovery must be in the future")
        try:
            with self.db.transaction() as session:
                incident = IncidentRow(
                    number=new_incident_number(now), status="open", category=Category.NETWORK.value, area=area,
                    symptom=symptom, match_key=match_key(area, symptom),
                    title=f"故障：{subject(area, rules.label_of(symptom))}"[:255], opened_at=now,
                    opened_by=viewer.username, eta=eta or now + rules.default_eta, note=(note or "").strip()[:2000] or None,
                    updated_at=now,
                )
                session.add(incident)
                session.flush()
                _feed(session, now, "incident_opened", viewer.username, incident.number)
                return _snapshot(session, rules, incident)
        except Conflict as error:
            raise WrongState("an open incident with the same area and symptom exists") from error

    def update(
        self, viewer: StaffMember, number: str, eta: Optional[datetime], note: Optional[str], notify: bool = False
    ) -> Tuple[Incident, int]:
        """Set the expected recovery and/or the public note; (incident, customers told)."""
        _supervisor(viewer)
        rules = self.rules.current()
        now = self.clock()
        if eta is not None and eta <= now:
            raise InvalidInput("the expected recovery must be in the future")
        if eta is None and note is None:
            raise InvalidInput("nothing to change")
        told = 0
        with self.db.transaction() as session:
            incident = _locked_incident(session, number, open_only=True)
            if eta is not None:
                incident.eta = eta
            if note is not None:
                incident.note = note.strip()[:2000] or None
            incident.updated_at = now
            detail = f"预计恢复 {beijing_time(incident.eta)}" + (f"；{incident.note}" if incident.note else "")
            tickets = _linked(session, incident)
            for row in tickets:
                if Status(row.status).is_open:
                    row.events.append(TicketEventRow(at=now, actor=viewer.username, kind="incident_updated", detail=f"{incident.number} {detail}"))
                    row.updated_at = now
            if notify:
                text = rules.text(
                    "eta_changed",
                    subject=subject(incident.area, rules.label_of(incident.symptom)),
                    incident=incident.number,
                    eta=beijing_time(incident.eta),
                    note=f"{incident.note}。" if incident.note and not incident.note.endswith(("。", "！", ".")) else (incident.note or ""),
                )
                for customer in _customers(t for t in tickets if Status(t.status).is_open):
                    notice(session, customer, text, (), now)
                    told += 1
            _feed(session, now, "incident_updated", viewer.username, incident.number)
            session.flush()
            return _snapshot(session, rules, incident), told

    def close(self, viewer: StaffMember, number: str, resolution: str) -> Tuple[Incident, int]:
        """Close the incident: linked open tickets resolved (result and survey as usual), every linked
        customer told once that service is back. Closing a closed incident is WrongState (nothing sent)."""
        _supervisor(viewer)
        resolution = (resolution or "").strip()[:2000]
        if not resolution:
            raise InvalidInput("closing needs a resolution")
        rules = self.rules.current()
        now = self.clock()
        from bot.lifecycle import send_result_and_survey  # the lifecycle builds on tickets, as we do

        with self.db.transaction() as session:
            incident = _locked_incident(session, number, open_only=True)
            incident.status, incident.closed_at, incident.closed_by = "closed", now, viewer.username
            incident.resolution, incident.updated_at = resolution, now
            tickets = _linked(session, incident)
            text = rules.text(
                "recovered",
                subject=subject(incident.area, rules.label_of(incident.symptom)),
                incident=incident.number,
                resolution=resolution.rstrip("。.！!"),
            )
            customers = _customers(tickets)
            for customer in customers:
                notice(session, customer, text, (), now)
            for row in tickets:
                row.events.append(TicketEventRow(at=now, actor=viewer.username, kind="incident_closed", detail=f"{incident.number}：{resolution}"))
                if Status(row.status).is_open:
                    move_row(row, Status.RESOLVED, viewer.username, now, f"故障 {incident.number} 已修复：{resolution}")
                    send_result_and_survey(session, row, f"故障 {incident.number} 已修复，{resolution}", now)
                row.updated_at = now
            _feed(session, now, "incident_closed", viewer.username, incident.number)
            session.flush()
            logger.info("incident %s closed by %s: %d tickets, %d customers", incident.number, viewer.username, len(tickets), len(customers))
            return _snapshot(session, rules, incident), len(customers)

    def link(self, viewer: StaffMember, number: str, ticket_number: str) -> Incident:
        _supervisor(viewer)
        rules = self.rules.current()
        now = self.clock()
        with self.db.transaction() as session:
            incident = _locked_incident(session, number, open_only=True)
            row = _ticket(session, ticket_number)
            if row.incident_id == incident.id:
                return _snapshot(session, rules, incident)
            if row.incident_id is not None:
                raise WrongState(f"ticket {row.number} is linked to another incident")
            if not Status(row.status).is_open:
                raise WrongState(f"ticket {row.number} is {row.status}")
            _link(session, row, incident, viewer.username, now)
            _feed(session, now, "incident_linked", viewer.username, incident.number)
            session.flush()
            return _snapshot(session, rules, incident)

    def unlink(self, viewer: StaffMember, number: str, ticket_number: str) -> Incident:
        _supervisor(viewer)
        rules = self.rules.current()
        now = self.clock()
        with self.db.transaction() as session:
            incident = _locked_incident(session, number)
            row = _ticket(session, ticket_number)
            if row.incident_id != incident.id:
                raise NotFound(f"ticket {row.number} is not linked to {incident.number}")
            if incident.status != "open":
                raise WrongState(f"incident {incident.number} is closed")
            row.incident_id = None
            row.events.append(TicketEventRow(at=now, actor=viewer.username, kind="incident_unlinked", detail=incident.number))
            row.updated_at = now
            _feed(session, now, "incident_unlinked", viewer.username, incident.number)
            session.flush()
            return _snapshot(session, rules, incident)


# -- helpers -----------------------------------------------------------------------------------


_LOCK_SPACE = 0x6F757461  # first key of the two-key advisory locks taken here ("outa")


def _serialise(session: Session, keys: Sequence[str]) -> None:
    """Hold a transaction-scoped lock per match key (PostgreSQL), always in the same order."""
    if session.bind.dialect.name != "postgresql":
        return
    for lock in sorted({zlib.crc32(key.encode()) - 2**31 for key in keys}):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_SPACE, "key": lock})


def _supervisor(viewer: StaffMember) -> None:
    if not viewer.is_supervisor:
        raise Forbidden("supervisors only")


def _ticket(session: Session, number: str, lock: bool = True) -> TicketRow:
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


_INCIDENT_NUMBER = re.compile(r"GZ\d{6}-[0-9A-HJKMNP-TV-Z]{6}")


def _locked_incident(session: Session, number: str, open_only: bool = False) -> IncidentRow:
    """The incident, serialised with intake on its key and row-locked; open ones only if asked."""
    _serialise(session, [_incident(session, number).match_key])
    incident = _incident(session, number, lock=True)
    if open_only and incident.status != "open":
        raise WrongState(f"incident {incident.number} is closed")
    return incident


def _incident(session: Session, number: str, lock: bool = False) -> IncidentRow:
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


def _linked(session: Session, incident: IncidentRow) -> List[TicketRow]:
    return list(
        session.execute(
            sa.select(TicketRow).where(TicketRow.incident_id == incident.id).order_by(TicketRow.id).with_for_update()
        ).scalars()
    )


def _customers(tickets: Sequence[TicketRow]) -> List[Customer]:
    """Each customer once, in the order of their first linked ticket."""
    seen: Dict[Customer, None] = {}
    for row in tickets:
        seen.setdefault(Customer(row.channel, row.channel_user_id), None)
    return list(seen)


def _link(session: Session, row: TicketRow, incident: IncidentRow, actor: str, now: datetime) -> None:
    row.incident_id = incident.id
    row.events.append(
        TicketEventRow(at=now, actor=actor, kind="incident_linked", detail=f"{incident.number}（{incident.match_key}）")
    )
    row.updated_at = now


def _feed(session: Session, now: datetime, kind: str, actor: str, detail: str) -> None:
    """Wake the consoles: supervisors see the incidents panel change."""
    session.add(HandoffEventRow(session_id=None, at=now, kind=kind, actor=actor[:64], detail=detail))


def _snapshot(session: Session, rules: Rules, row: IncidentRow, with_tickets: bool = False) -> Incident:
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
