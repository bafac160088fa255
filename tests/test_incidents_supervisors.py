"""Outage incidents in supervisors' hands: closing (every linked ticket resolved, each customer told
once), ETA and notes, listing and linking (SQLite and PostgreSQL). Fixtures: tests/incidents_support.py."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.errors import Forbidden, InvalidInput, WrongState
from bot.incidents import IncidentService
from bot.incidents.rules import DEFAULT_RULES, RuleBook
from bot.staff import Role, StaffService
from bot.storage.models import HandoffMessageRow, OutboxEventRow
from bot.tickets import Status
from tests.incidents_support import complain, customer, incidents_fixture, tickets_fixture  # noqa: F401


@pytest.fixture
def boss(db, clock):
    staff = StaffService(db, clock)
    staff.add("boss", "赵主管", "boss-pass-1", Role.SUPERVISOR)
    staff.add("wang", "小王", "wang-pass-1")
    return staff.login("boss", "boss-pass-1")[2]


def storm(tickets, incidents, count=6):
    outcome = None
    for i in range(count):
        _, outcome = complain(tickets, incidents, i, "阳光花园没信号")
    return outcome.incident


def to_customer(db, who):
    with db.transaction() as session:
        return session.execute(
            sa.select(HandoffMessageRow.text).where(
                HandoffMessageRow.channel == who.channel,
                HandoffMessageRow.channel_user_id == who.user_id,
                HandoffMessageRow.to_customer.is_(True),
            ).order_by(HandoffMessageRow.id)
        ).scalars().all()


def test_close_resolves_every_linked_ticket_and_tells_each_customer_once(db, tickets, incidents, boss, clock):
    incident = storm(tickets, incidents)
    # One linked ticket was already resolved by an agent; its customer is still told the fault is fixed.
    first = tickets.list_for(customer(0))[0]
    tickets.transition(first.number, Status.RESOLVED, "wang", "已远程重启基站")
    before = {i: len(to_customer(db, customer(i))) for i in range(6)}

    closed, told = incidents.close(boss, incident.number, "基站电源已恢复，信号正常")
    assert closed.status == "closed" and told == 6 and closed.linked == 6 and closed.linked_open == 0
    for i in range(6):
        new = to_customer(db, customer(i))[before[i]:]
        assert sum("已经修复" in t for t in new) == 1, new
        if i:
            assert any("已处理完成" in t and "基站电源已恢复" in t for t in new) and any("打分" in t for t in new)
        assert tickets.list_for(customer(i))[0].status is Status.RESOLVED
    with db.transaction() as session:
        kinds = session.execute(
            sa.select(OutboxEventRow.kind, OutboxEventRow.payload).where(
                OutboxEventRow.ticket_number == tickets.list_for(customer(3))[0].number
            ).order_by(OutboxEventRow.id)
        ).all()
    assert [k for k, _ in kinds][-3:] == ["incident_closed", "resolved", "survey_sent"]
    assert json.loads(kinds[-2][1])["ticket"]["status"] == "resolved"

    # Closing again changes and sends nothing.
    with pytest.raises(WrongState):
        incidents.close(boss, incident.number, "再关一次")
    assert sum(len(to_customer(db, customer(i))) for i in range(6)) == sum(before.values()) + 6 + 5 * 2
    # With the incident closed, a new complaint from the estate starts counting again.
    _, outcome = complain(tickets, incidents, 20, "阳光花园没信号")
    assert not outcome.linked


def test_two_supervisors_closing_at_once_notify_once(db, tickets, incidents, boss, clock):
    incident = storm(tickets, incidents, 5)
    results = []

    def run():
        try:
            results.append(IncidentService(db, clock, RuleBook(DEFAULT_RULES)).close(boss, incident.number, "已修复"))
        except WrongState as error:
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(isinstance(r, WrongState) for r in results) == 1
    assert all(sum("已经修复" in t for t in to_customer(db, customer(i))) == 1 for i in range(5))


def test_eta_and_note_reach_linked_customers_when_asked(db, tickets, incidents, boss, clock):
    incident = storm(tickets, incidents, 5)
    eta = clock.now + timedelta(hours=6)
    updated, told = incidents.update(boss, incident.number, eta, "光缆被挖断，正在熔接", notify=True)
    assert told == 5 and updated.eta == eta and updated.note == "光缆被挖断，正在熔接"
    texts = to_customer(db, customer(2))
    assert "预计恢复时间更新为 11月22日 16:" in texts[-1] and "光缆被挖断" in texts[-1]
    _, told = incidents.update(boss, incident.number, None, "抢修进行中")
    assert told == 0 and len(to_customer(db, customer(2))) == len(texts)
    # The next customer hears the new time.
    _, outcome = complain(tickets, incidents, 9, "阳光花园手机没信号")
    assert "11月22日 16:" in outcome.customer_text
    with pytest.raises(InvalidInput):
        incidents.update(boss, incident.number, clock.now - timedelta(hours=1), None)


def test_supervisors_only_and_listing_puts_open_first(db, tickets, incidents, boss, clock):
    staff = StaffService(db, clock)
    agent = staff.login("wang", "wang-pass-1")[2]
    first = storm(tickets, incidents, 5)
    with pytest.raises(Forbidden):
        incidents.list(agent)
    with pytest.raises(Forbidden):
        incidents.close(agent, first.number, "已修复")
    incidents.close(boss, first.number, "已修复")
    manual = incidents.open(boss, "天河区", "broadband_down", note="光缆中断")
    with pytest.raises(WrongState):
        incidents.open(boss, "天河区", "broadband_down")
    listed = incidents.list(boss)
    assert [i.number for i in listed] == [manual.number, first.number]
    assert listed[1].linked == 5 and listed[0].linked == 0 and listed[0].opened_by == "boss"
    # A complaint about it is linked at once (no threshold for a known fault).
    ticket, outcome = complain(tickets, incidents, 30, "天河宽带断网了")
    assert outcome.linked and outcome.incident.number == manual.number
    incidents.unlink(boss, manual.number, ticket.number)
    assert incidents.get(boss, manual.number).linked == 0
    incidents.link(boss, manual.number, ticket.number)
    assert [t.number for t in incidents.get(boss, manual.number).tickets] == [ticket.number]
