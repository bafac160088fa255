"""Fixtures and helpers shared by the handoff tests (tests/test_handoff*.py): three staff members,
the ticket and handoff services on one clock, logging in and filing a complaint.

Test modules import the `*_fixture` functions; pytest registers each under the name its decorator gives."""

from __future__ import annotations

import pytest

from bot.categories import Category
from bot.handoff import HandoffService, WorkingHours
from bot.staff import Role, StaffService
from bot.tickets import Customer, TicketService


@pytest.fixture(name="staff")
def staff_fixture(db, clock) -> StaffService:
    service = StaffService(db, clock)
    service.add("wang", "小王", "wang-pass-1")
    service.add("li", "小李", "li-pass-12")
    service.add("boss", "赵主管", "boss-pass-1", Role.SUPERVISOR)
    return service


@pytest.fixture(name="tickets")
def tickets_fixture(db, clock) -> TicketService:
    return TicketService(db, clock)


@pytest.fixture(name="handoff")
def handoff_fixture(db, staff, clock) -> HandoffService:
    return HandoffService(db, staff, WorkingHours(), clock)


def login(staff: StaffService, username: str):
    return staff.login(username, "li-pass-12" if username == "li" else f"{username}-pass-1")[2]


def complaint(tickets: TicketService, customer: Customer, text: str = "家里宽带三天都连不上网"):
    return tickets.open_complaint(customer, Category.NETWORK, text, "13800001111")[0]
