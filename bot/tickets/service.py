"""Complaint tickets: filing, looking up, adding to, and asking for a human.

`TicketService` holds the rules; it talks to the database only through `Database.transaction()`
so a failure never leaves half a ticket behind. Customers only ever see their own tickets.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import deadlines, severity as severity_rules, ticket_numbers
from bot.categories import Category
from bot.clock import utcnow
from bot.customers import Customer
from bot.errors import Conflict, InvalidInput, NotFound, NotOwner
from bot.severity import Assessment, Severity
from bot.storage.database import Database
from bot.storage.models import TicketEventRow, TicketRow
from bot.text import description_from, is_valid_contact_phone
from bot.tickets.corrections import change_phone_row
from bot.tickets.evidence import link_held_attachments
from bot.tickets.model import BOT, CUSTOMER, OPEN_STATUSES, Status, Ticket
from bot.tickets.resolution import resolve_row
from bot.tickets.rows import assign_row, find_row, latest_open_row, move_row, raise_severity_row

logger = logging.getLogger(__name__)

REPEAT_WINDOW = timedelta(days=30)


class TicketService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- filing ---------------------------------------------------------------------------

    def open_complaint(
        self,
        customer: Customer,
        category: Category,
        description: str,
        contact_phone: Optional[str],
        idempotency_key: Optional[str] = None,
        origin: Optional[str] = None,
    ) -> Tuple[Ticket, bool]:
        """File a complaint; returns (ticket, created). A repeated idempotency key returns the first ticket.
        `origin`: a pseudonym of the client's address (outage detection counts per source)."""
        description = description_from(description)
        if not description:
            raise InvalidInput("empty complaint description")
        if contact_phone is not None and not is_valid_contact_phone(contact_phone):
            raise InvalidInput("contact phone is neither a mainland mobile nor a landline with its area code")
        try:
            return self._file(customer, category, description, contact_phone, idempotency_key, origin)
        except Conflict:
            if not idempotency_key:
                raise
            # A concurrent retry with the same key committed first: its ticket is ours.
            with self.db.transaction() as session:
                return Ticket.from_row(self._by_key(session, idempotency_key)), False

    @staticmethod
    def _by_key(session: Session, idempotency_key: str) -> TicketRow:
        row = session.execute(
            sa.select(TicketRow).where(TicketRow.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(idempotency_key)
        return row

    def _file(
        self,
        customer: Customer,
        category: Category,
        description: str,
        contact_phone: Optional[str],
        idempotency_key: Optional[str],
        origin: Optional[str] = None,
    ) -> Tuple[Ticket, bool]:
        with self.db.transaction() as session:
            if idempotency_key:
                try:
                    return Ticket.from_row(self._by_key(session, idempotency_key)), False
                except NotFound:
                    pass
            now = self.clock()
            earlier = self._earlier_same_complaints(session, customer, contact_phone, category, now)
            repeat = (
                Assessment(Severity.MAJOR, f"30天内同类重复投诉（前次工单 {earlier[0]}）")
                if earlier
                else Assessment(Severity.GENERAL, "一般问题")
            )
            assessment = severity_rules.strongest([severity_rules.assess(description, category), repeat])
            due = deadlines.compute(now, category, assessment.severity)
            row = TicketRow(
                number=self._unused_number(session, now),
                channel=customer.channel,
                channel_user_id=customer.user_id,
                contact_phone=contact_phone,
                category=category.value,
                severity=assessment.severity.value,
                severity_reason=assessment.reason,
                department=category.department.value,
                responsible=None,
                status=Status.NEW.value,
                description=description,
                created_at=now,
                updated_at=now,
                response_due=due.response_due,
                resolve_due=due.resolve_due,
                idempotency_key=idempotency_key,
                repeat_of=earlier[0] if earlier else None,
                repeat_count=len(earlier),
                origin=origin[:24] if origin else None,
            )
            session.add(row)
            row.events.append(TicketEventRow(at=now, actor=CUSTOMER, kind="created", detail=description))
            row.events.append(
                TicketEventRow(
                    at=now,
                    actor=BOT,
                    kind="dispatched",
                    detail=f"category={category.value} department={row.department} "
                    f"severity={row.severity} ({assessment.reason})",
                )
            )
            link_held_attachments(session, row, customer, now)
            session.flush()
            logger.info("ticket %s filed: category=%s severity=%s", row.number, row.category, row.severity)
            return Ticket.from_row(row), True

    @staticmethod
    def _earlier_same_complaints(
        session: Session, customer: Customer, phone: Optional[str], category: Category, now: datetime
    ) -> List[str]:
        """Numbers of this customer's complaints of the same category in the last 30 days, newest first
        (the customer is recognised by channel identity or by contact phone): a repeat complaint."""
        same_customer = sa.and_(TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id)
        if phone:
            same_customer = sa.or_(same_customer, TicketRow.contact_phone == phone)
        return list(
            session.execute(
                sa.select(TicketRow.number)
                .where(same_customer, TicketRow.category == category.value, TicketRow.created_at >= now - REPEAT_WINDOW)
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
            ).scalars()
        )

    @staticmethod
    def _unused_number(session: Session, now: datetime) -> str:
        while True:
            number = ticket_numbers.new_number(now)
            taken = session.execute(sa.select(TicketRow.id).where(TicketRow.number == number)).first()
            if taken is None:
                return number

    # -- looking up -----------------------------------------------------------------------

    def get(self, customer: Customer, number: str) -> Ticket:
        """A ticket of this customer; NotFound for unknown numbers and for other customers' tickets alike."""
        canonical = ticket_numbers.find(number)
        if canonical is None:
            raise InvalidInput("not a ticket number")
        with self.db.transaction() as session:
            return Ticket.from_row(self._owned_row(session, customer, canonical))

    def list_for(self, customer: Customer, open_only: bool = False, limit: int = 5) -> List[Ticket]:
        """The customer's tickets, newest first."""
        with self.db.transaction() as session:
            query = sa.select(TicketRow).where(
                TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id
            )
            if open_only:
                query = query.where(TicketRow.status.in_([s.value for s in OPEN_STATUSES]))
            rows = session.execute(query.order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(limit))
            return [Ticket.from_row(row) for row in rows.scalars()]

    def changed_after(self, cursor: int = 0, since: Optional[datetime] = None, limit: int = 100) -> List[Ticket]:
        """Tickets whose latest change has a position after `cursor`, in commit order (for backends that pull).

        A page's last ticket's `change_seq` is the next page's cursor. Positions are handed out as
        transactions commit (bot/storage/capture.py), so a change committed late still comes after the cursor
        a backend already holds; `since` narrows a first page to changes at or after a time."""
        condition = TicketRow.change_seq > cursor
        if since is not None:
            condition = sa.and_(condition, TicketRow.updated_at >= since)
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(TicketRow).where(condition).order_by(TicketRow.change_seq, TicketRow.number).limit(limit)
            ).scalars()
            return [Ticket.from_row(row) for row in rows]

    def changed_since(self, since: datetime, after: Optional[str] = None, limit: int = 100) -> List[Ticket]:
        """Tickets changed at or after `since`, oldest change first (for backends that pull).

        Pages are keyset-paginated on (updated_at, number): pass the last ticket's updated_at as
        `since` and its number as `after` for the next page."""
        condition = TicketRow.updated_at >= since
        if after:
            condition = sa.or_(TicketRow.updated_at > since, sa.and_(TicketRow.updated_at == since, TicketRow.number > after))
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(TicketRow).where(condition).order_by(TicketRow.updated_at, TicketRow.number).limit(limit)
            ).scalars()
            return [Ticket.from_row(row) for row in rows]

    def by_number(self, number: str) -> Ticket:
        """Any ticket by its number (staff and backends; customers use `get`)."""
        with self.db.transaction() as session:
            return Ticket.from_row(self._row(session, number))

    def known_phone(self, customer: Customer) -> Optional[str]:
        """The contact phone this customer gave on their latest ticket, if any."""
        with self.db.transaction() as session:
            return session.execute(
                sa.select(TicketRow.contact_phone)
                .where(
                    TicketRow.channel == customer.channel,
                    TicketRow.channel_user_id == customer.user_id,
                    TicketRow.contact_phone.isnot(None),
                )
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    # -- changing -------------------------------------------------------------------------

    def add_customer_note(self, customer: Customer, text: str, number: Optional[str] = None) -> Ticket:
        """Append the customer's addition to the named ticket, or to their latest open one."""
        note = description_from(text)
        if not note:
            raise InvalidInput("empty addition")
        with self.db.transaction() as session:
            row = self._target_row(session, customer, number)
            now = self.clock()
            row.events.append(TicketEventRow(at=now, actor=CUSTOMER, kind="customer_addition", detail=note))
            raised = severity_rules.assess(note, Category(row.category))
            self._raise_severity(row, raised, now)
            row.updated_at = now
            session.flush()
            return Ticket.from_row(row)

    def set_contact_phone(self, customer: Customer, number: str, phone: str) -> Tuple[Ticket, bool]:
        """The customer gives (or changes) the number to call them back on, for one of their own
        tickets; (ticket, changed). The history keeps the change, masked."""
        if not is_valid_contact_phone(phone):
            raise InvalidInput("neither a mainland mobile nor a landline with its area code")
        with self.db.transaction() as session:
            row = self._owned_row(session, customer, number)
            if row.contact_phone == phone:
                return Ticket.from_row(row), False
            now = self.clock()
            change_phone_row(row, phone, CUSTOMER, now)
            row.updated_at = now
            session.flush()
            return Ticket.from_row(row), True

    def request_human(
        self,
        customer: Customer,
        text: str,
        number: Optional[str] = None,
        contact_phone: Optional[str] = None,
        category: Category = Category.OTHER,
        idempotency_key: Optional[str] = None,
    ) -> Tuple[Ticket, bool]:
        """Record that the customer wants a person: on their open ticket, or on a new one.

        Returns (ticket, created). A regulator or media threat raises the severity.
        """
        try:
            with self.db.transaction() as session:
                row = self._target_row(session, customer, number)
                now = self.clock()
                if row.human_requested_at is None:
                    row.human_requested_at = now
                if contact_phone and contact_phone != row.contact_phone:
                    # The number given with this request is the one to call back on.
                    change_phone_row(row, contact_phone, CUSTOMER, now)
                row.events.append(
                    TicketEventRow(at=now, actor=CUSTOMER, kind="human_requested", detail=description_from(text))
                )
                self._raise_severity(row, severity_rules.assess(text, Category(row.category)), now)
                row.updated_at = now
                session.flush()
                return Ticket.from_row(row), False
        except NotFound:
            if number is not None:
                raise
        ticket, created = self.open_complaint(customer, category, text, contact_phone, idempotency_key)
        if ticket.human_requested_at is not None:
            return ticket, created
        with self.db.transaction() as session:
            row = self._owned_row(session, customer, ticket.number)
            row.human_requested_at = self.clock()
            row.events.append(TicketEventRow(at=row.human_requested_at, actor=CUSTOMER, kind="human_requested", detail=""))
            session.flush()
            return Ticket.from_row(row), created

    # -- staff operations (the agent console builds on these) ----------------------------

    def assign(self, number: str, person: str, actor: str, reason: str = "") -> Ticket:
        """Name the responsible person; a new or reopened ticket becomes assigned."""
        person = (person or "").strip()
        if not person:
            raise InvalidInput("responsible person required")
        with self.db.transaction() as session:
            row = self._row(session, number)
            assign_row(row, person, actor, self.clock(), reason)
            session.flush()
            return Ticket.from_row(row)

    def transition(self, number: str, to: Status, actor: str, note: str = "") -> Ticket:
        """Move a ticket along its lifecycle; anything else is InvalidInput."""
        with self.db.transaction() as session:
            row = self._row(session, number)
            now = self.clock()
            if to is Status.RESOLVED:
                resolve_row(session, row, actor, now, note)
            else:
                self._move(row, to, actor, now, note)
            row.updated_at = now
            session.flush()
            return Ticket.from_row(row)

    @staticmethod
    def _move(row: TicketRow, to: Status, actor: str, now: datetime, note: str) -> None:
        move_row(row, to, actor, now, note)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, number: str) -> TicketRow:
        return find_row(session, number)

    @classmethod
    def _owned_row(cls, session: Session, customer: Customer, number: str) -> TicketRow:
        row = cls._row(session, number)
        if (row.channel, row.channel_user_id) != (customer.channel, customer.user_id):
            raise NotOwner(number)
        return row

    def _target_row(self, session: Session, customer: Customer, number: Optional[str]) -> TicketRow:
        if number is not None:
            canonical = ticket_numbers.find(number)
            if canonical is None:
                raise InvalidInput("not a ticket number")
            return self._owned_row(session, customer, canonical)
        row = latest_open_row(session, customer)
        if row is None:
            raise NotFound("no open ticket")
        return row

    @staticmethod
    def _raise_severity(row: TicketRow, assessment: Assessment, now: datetime) -> None:
        raise_severity_row(row, assessment, now)

