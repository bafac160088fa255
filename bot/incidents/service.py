"""Outage detection (故障聚合): many network complaints about one place or one symptom become one
parent incident that supervisors handle and close for everyone at once.

* **Rules** (bot/incidents/rules.py) come from a YAML file (bot/incidents/outage_rules.yml, or
  OUTAGE_RULES_FILE), re-read whenever it changes: areas, address patterns, symptoms, thresholds,
  window, texts.
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
from datetime import datetime
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.categories import Category
from bot.clock import utcnow
from bot.errors import Conflict, InvalidInput, NotFound, WrongState
from bot.feed import feed_event
from bot.incidents.rows import (
    customers_of,
    incident_row,
    incident_snapshot,
    link_row,
    linked_rows,
    locked_incident,
    require_supervisor,
    serialise,
)
from bot.incidents.rules import RuleBook, Rules, match_key
from bot.incidents.snapshots import Incident, Outcome, distinct_customers, new_incident_number, subject
from bot.notices import notice
from bot.staff import StaffMember
from bot.storage.database import Database
from bot.storage.models import IncidentRow, TicketEventRow, TicketRow
from bot.text import beijing_time
from bot.tickets.model import SYSTEM, Status
from bot.tickets.resolution import resolve_row
from bot.tickets.rows import add_event, find_row

logger = logging.getLogger(__name__)


class IncidentService:
    def __init__(
        self, db: Database, clock: Callable[[], datetime] = utcnow, rules: Optional[RuleBook] = None
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
            row = find_row(session, number)
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
            keys = [key for _, key in rules.keys(area, symptom)]
            if not keys:
                return Outcome(number, area, symptom)
            # The storm's common case: the fault is already known. Linking to it needs no count and
            # no per-key serialisation, only the incident held against a concurrent close, so a
            # thousand complaints about one outage do not queue behind each other here.
            incident = self._open_incident(session, keys, hold=True)
            if incident is not None:
                now = self.clock()
                link_row(session, row, incident, SYSTEM, now)
                feed_event(session, now, "incident_linked", SYSTEM, incident.number)
                session.flush()
                return self._outcome(session, rules, row, incident, False)
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
            row = find_row(session, number, lock=False)
            keys = rules.keys(row.area, row.symptom)
            # One intake at a time per key (PostgreSQL; SQLite has one writer anyway): each sees what
            # the one before committed, so the count is right and no two openers fight over rows.
            serialise(session, [key for _, key in keys])
            session.refresh(row)
            if row.incident_id is not None:  # linked meanwhile by an incident opened elsewhere
                return self._outcome(session, rules, row, session.get(IncidentRow, row.incident_id), False)
            incident = self._open_incident(session, [key for _, key in keys])
            if incident is not None:
                row = find_row(session, number)
                if row.incident_id is not None:
                    return self._outcome(session, rules, row, session.get(IncidentRow, row.incident_id), False)
                link_row(session, row, incident, SYSTEM, now)
                feed_event(session, now, "incident_linked", SYSTEM, incident.number)
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
                    link_row(session, ticket, incident, SYSTEM, now)
                feed_event(session, now, "incident_opened", SYSTEM, f"{incident.number} {len(matching)}")
                session.flush()
                logger.warning(
                    "incident %s opened: %s, %d complaints in %s", incident.number, key, len(matching), rules.window
                )
                return self._outcome(session, rules, row, incident, True)
            return Outcome(row.number, row.area, row.symptom)

    @staticmethod
    def _open_incident(session: Session, keys: List[str], hold: bool = False) -> Optional[IncidentRow]:
        """The open incident of the first of `keys` (most specific first) that has one. With `hold`,
        share-locked (PostgreSQL) so that closing it waits for this link and then resolves the ticket too."""
        query = sa.select(IncidentRow).where(IncidentRow.status == "open", IncidentRow.match_key.in_(keys))
        if hold:
            query = query.with_for_update(read=True)
        found = {incident.match_key: incident for incident in session.execute(query).scalars()}
        return next((found[key] for key in keys if key in found), None)

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
        snapshot = incident_snapshot(session, rules, incident)
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
        require_supervisor(viewer)
        rules = self.rules.current()
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(IncidentRow)
                .order_by(sa.case((IncidentRow.status == "open", 0), else_=1), IncidentRow.opened_at.desc(), IncidentRow.id.desc())
                .limit(limit)
            ).scalars().all()
            return [incident_snapshot(session, rules, r) for r in rows]

    def get(self, viewer: StaffMember, number: str) -> Incident:
        require_supervisor(viewer)
        rules = self.rules.current()
        with self.db.transaction() as session:
            return incident_snapshot(session, rules, incident_row(session, number), with_tickets=True)

    def open(
        self, viewer: StaffMember, area: Optional[str], symptom: Optional[str], eta: Optional[datetime] = None, note: str = ""
    ) -> Incident:
        """A supervisor opens an incident by hand (e.g. a planned works or a fault reported by the network team)."""
        require_supervisor(viewer)
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
                feed_event(session, now, "incident_opened", viewer.username, incident.number)
                return incident_snapshot(session, rules, incident)
        except Conflict as error:
            raise WrongState("an open incident with the same area and symptom exists") from error

    def update(
        self, viewer: StaffMember, number: str, eta: Optional[datetime], note: Optional[str], notify: bool = False
    ) -> Tuple[Incident, int]:
        """Set the expected recovery and/or the public note; (incident, customers told)."""
        require_supervisor(viewer)
        rules = self.rules.current()
        now = self.clock()
        if eta is not None and eta <= now:
            raise InvalidInput("the expected recovery must be in the future")
        if eta is None and note is None:
            raise InvalidInput("nothing to change")
        told = 0
        with self.db.transaction() as session:
            incident = locked_incident(session, number, open_only=True)
            if eta is not None:
                incident.eta = eta
            if note is not None:
                incident.note = note.strip()[:2000] or None
            incident.updated_at = now
            detail = f"预计恢复 {beijing_time(incident.eta)}" + (f"；{incident.note}" if incident.note else "")
            tickets = linked_rows(session, incident)
            for row in tickets:
                if Status(row.status).is_open:
                    add_event(row, now, viewer.username, "incident_updated", f"{incident.number} {detail}")
            if notify:
                text = rules.text(
                    "eta_changed",
                    subject=subject(incident.area, rules.label_of(incident.symptom)),
                    incident=incident.number,
                    eta=beijing_time(incident.eta),
                    note=f"{incident.note}。" if incident.note and not incident.note.endswith(("。", "！", ".")) else (incident.note or ""),
                )
                for customer in customers_of(t for t in tickets if Status(t.status).is_open):
                    notice(session, customer, text, (), now)
                    told += 1
            feed_event(session, now, "incident_updated", viewer.username, incident.number)
            session.flush()
            return incident_snapshot(session, rules, incident), told

    def close(self, viewer: StaffMember, number: str, resolution: str) -> Tuple[Incident, int]:
        """Close the incident: linked open tickets resolved (result and survey as usual), every linked
        customer told once that service is back. Closing a closed incident is WrongState (nothing sent)."""
        require_supervisor(viewer)
        resolution = (resolution or "").strip()[:2000]
        if not resolution:
            raise InvalidInput("closing needs a resolution")
        rules = self.rules.current()
        now = self.clock()
        with self.db.transaction() as session:
            incident = locked_incident(session, number, open_only=True)
            incident.status, incident.closed_at, incident.closed_by = "closed", now, viewer.username
            incident.resolution, incident.updated_at = resolution, now
            tickets = linked_rows(session, incident)
            text = rules.text(
                "recovered",
                subject=subject(incident.area, rules.label_of(incident.symptom)),
                incident=incident.number,
                resolution=resolution.rstrip("。.！!"),
            )
            customers = customers_of(tickets)
            for customer in customers:
                notice(session, customer, text, (), now)
            for row in tickets:
                row.events.append(TicketEventRow(at=now, actor=viewer.username, kind="incident_closed", detail=f"{incident.number}：{resolution}"))
                if Status(row.status).is_open:
                    resolve_row(
                        session, row, viewer.username, now,
                        note=f"故障 {incident.number} 已修复：{resolution}",
                        result=f"故障 {incident.number} 已修复，{resolution}",
                    )
                row.updated_at = now
            feed_event(session, now, "incident_closed", viewer.username, incident.number)
            session.flush()
            logger.info("incident %s closed by %s: %d tickets, %d customers", incident.number, viewer.username, len(tickets), len(customers))
            return incident_snapshot(session, rules, incident), len(customers)

    def link(self, viewer: StaffMember, number: str, ticket_number: str) -> Incident:
        require_supervisor(viewer)
        rules = self.rules.current()
        now = self.clock()
        with self.db.transaction() as session:
            incident = locked_incident(session, number, open_only=True)
            row = find_row(session, ticket_number)
            if row.incident_id == incident.id:
                return incident_snapshot(session, rules, incident)
            if row.incident_id is not None:
                raise WrongState(f"ticket {row.number} is linked to another incident")
            if not Status(row.status).is_open:
                raise WrongState(f"ticket {row.number} is {row.status}")
            link_row(session, row, incident, viewer.username, now)
            feed_event(session, now, "incident_linked", viewer.username, incident.number)
            session.flush()
            return incident_snapshot(session, rules, incident)

    def unlink(self, viewer: StaffMember, number: str, ticket_number: str) -> Incident:
        require_supervisor(viewer)
        rules = self.rules.current()
        now = self.clock()
        with self.db.transaction() as session:
            incident = locked_incident(session, number)
            row = find_row(session, ticket_number)
            if row.incident_id != incident.id:
                raise NotFound(f"ticket {row.number} is not linked to {incident.number}")
            if incident.status != "open":
                raise WrongState(f"incident {incident.number} is closed")
            row.incident_id = None
            add_event(row, now, viewer.username, "incident_unlinked", incident.number)
            feed_event(session, now, "incident_unlinked", viewer.username, incident.number)
            session.flush()
            return incident_snapshot(session, rules, incident)

