"""Fixtures and helpers shared by the outage tests (tests/test_incidents*.py): the ticket and
incident services on one clock, numbered storm customers filing complaints, the incidents in the store.

Test modules import the `*_fixture` functions; pytest registers each under the name its decorator gives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.categories import Category
from bot.incidents import IncidentService
from bot.incidents.rules import DEFAULT_RULES, RuleBook
from bot.storage.models import IncidentRow, TicketRow
from bot.tickets import Customer, TicketService


@pytest.fixture(name="tickets")
def tickets_fixture(db, clock) -> TicketService:
    return TicketService(db, clock)


@pytest.fixture(name="incidents")
def incidents_fixture(db, clock) -> IncidentService:
    return IncidentService(db, clock, RuleBook(DEFAULT_RULES))


def customer(i: int) -> Customer:
    return Customer("rest", f"storm-{i}")


def complain(tickets, incidents, i: int, text: str, category: Category = Category.NETWORK):
    ticket = tickets.open_complaint(customer(i), category, text, f"1390000{i:04d}")[0]
    return ticket, incidents.consider(ticket.number)


def incident_rows(db):
    with db.transaction() as session:
        return session.execute(sa.select(IncidentRow)).scalars().all()


def linked_numbers(db, incident_id):
    with db.transaction() as session:
        return set(session.execute(sa.select(TicketRow.number).where(TicketRow.incident_id == incident_id)).scalars())
