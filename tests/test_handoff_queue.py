"""Handoff: waiting for an agent and who becomes responsible (working hours, the queue, accepting,
returning customers, transfers, the sweep), on SQLite and PostgreSQL. Fixtures: tests/handoff_support.py."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput, Taken
from bot.handoff import HandoffService, Outcome, SessionStatus, WorkingHours, is_cancel
from bot.staff import StaffService
from bot.tickets import RESPONSIBILITY_KINDS, Status
from tests.handoff_support import complaint, handoff_fixture, login, staff_fixture, tickets_fixture  # noqa: F401


def test_nobody_online_promises_a_call_back_and_keeps_the_request(handoff, tickets, alice):
    ticket = complaint(tickets, alice)
    placement = handoff.request(alice, "客户要求转人工", ticket, [("customer", "宽带断了"), ("bot", "已登记")])
    assert placement.outcome is Outcome.UNAVAILABLE
    assert placement.callback_due is not None and placement.callback_due <= ticket.response_due
    assert handoff.session_for(alice) is None  # the bot keeps answering meanwhile
    assert [e.kind for e in tickets.get(alice, ticket.number).events][-1] == "callback_requested"
    queued = handoff.queue(None)
    assert [s.id for s in queued] == [placement.session.id] and queued[0].status is SessionStatus.CALLBACK


def test_a_customer_can_take_back_a_call_back(handoff, tickets, alice):
    # "不要人工了 不用给我回电话": the request leaves the queue and the ticket says so.
    ticket = complaint(tickets, alice)
    placement = handoff.request(alice, "客户要求转人工", ticket)
    withdrawn = handoff.withdraw_callback(alice)
    assert withdrawn is not None and withdrawn.id == placement.session.id and withdrawn.status is SessionStatus.CANCELLED
    assert handoff.queue(None) == [] and handoff.pending_for(alice) is None
    assert [e.kind for e in tickets.get(alice, ticket.number).events][-1] == "human_cancelled"
    assert handoff.withdraw_callback(alice) is None  # nothing left to take back


def test_outside_working_hours_nobody_takes_chats(db, staff, clock, tickets, alice):
    login(staff, "wang")
    closed = HandoffService(db, staff, WorkingHours.parse("14:00-18:00"), clock)  # it is 10:00 in Beijing
    placement = closed.request(alice, "转人工", complaint(tickets, alice))
    assert placement.outcome is Outcome.UNAVAILABLE
    assert placement.callback_due.astimezone(timezone(timedelta(hours=8))).hour == 16  # opening + 2 h


def test_working_hours():
    hours = WorkingHours.parse("09:00-21:00")
    assert hours.is_open(datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc))  # 09:00 Beijing
    assert not hours.is_open(datetime(2026, 11, 22, 13, 0, tzinfo=timezone.utc))  # 21:00 Beijing
    assert WorkingHours.parse("22:00-06:00").is_open(datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc))
    assert WorkingHours.parse("").always
    with pytest.raises(InvalidInput):
        WorkingHours.parse("nine to five")


def test_queue_position_wait_and_urgency_order(handoff, staff, tickets, alice, bob):
    login(staff, "wang")
    first = handoff.request(alice, "转人工", complaint(tickets, alice))
    assert first.outcome is Outcome.QUEUED and first.position == 1 and first.estimated_wait > timedelta(0)
    urgent = tickets.open_complaint(bob, Category.NETWORK, "整个小区都断网了，全部没信号", "13800002222")[0]
    second = handoff.request(bob, "转人工", urgent)
    assert [s.customer for s in handoff.queue(None)] == [bob, alice]  # the urgent deadline first
    assert second.position == 1
    assert handoff.request(alice, "再次转人工").outcome is Outcome.ALREADY


def test_waiting_customer_messages_go_to_the_transcript_and_cancel_returns_to_the_bot(handoff, staff, tickets, alice):
    login(staff, "wang")
    session = handoff.request(alice, "转人工", complaint(tickets, alice), [("customer", "宽带断了")]).session
    routed = handoff.customer_message(alice, "还要等多久？")
    assert routed is not None and not routed.cancelled and routed.position == 1
    boss = login(staff, "boss")
    assert [m.text for m in handoff.transcript(boss, session.id)] == ["宽带断了", "还要等多久？"]
    assert handoff.customer_message(alice, "取消！").cancelled
    assert handoff.customer_message(alice, "查话费") is None


def test_cancel_phrases():
    assert is_cancel("取消") and is_cancel("不等了。") and is_cancel("/cancel_handoff")
    assert not is_cancel("取消套餐怎么办理") and not is_cancel("我要取消宽带业务")


def test_first_agent_to_accept_becomes_responsible(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    accepted = handoff.accept(wang, session.id)
    assert accepted.status is SessionStatus.ACTIVE and accepted.owner == "wang" and accepted.agent == "wang"
    after = tickets.get(alice, ticket.number)
    assert after.responsible == "wang" and after.status is Status.ASSIGNED
    assert after.progress_due == after.events[-1].at + timedelta(hours=24)
    assigned = [e for e in after.events if e.kind == "assigned"]
    assert len(assigned) == 1 and "首问负责" in assigned[0].detail and assigned[0].actor == "wang"
    pending = handoff.pending_deliveries("rest", "alice")
    assert [m.text for m in pending] == ["客服小王已接入，正在为您服务。"]


def test_fifty_concurrent_accepts_have_exactly_one_winner(handoff, staff, tickets, alice):
    for n in range(50):
        staff.add(f"agent{n}", f"坐席{n}", f"agent{n}-pass")
    agents = [staff.login(f"agent{n}", f"agent{n}-pass")[2] for n in range(50)]
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    barrier = threading.Barrier(50)

    def accept(agent):
        barrier.wait()
        try:
            return handoff.accept(agent, session.id).agent
        except Taken as taken:
            return taken

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(accept, agents))
    winners = [r for r in results if isinstance(r, str)]
    conflicts = [r for r in results if isinstance(r, Taken)]
    assert len(winners) == 1 and len(conflicts) == 49
    assert {c.agent for c in conflicts} == set(winners)  # every loser is told who has it
    history = tickets.get(alice, ticket.number).events
    assert [e.actor for e in history if e.kind == "assigned"] == winners


def test_returning_customer_reaches_the_responsible_agent(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    ticket = complaint(tickets, alice)
    first = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, first.id)
    handoff.release(wang, first.id)
    again = handoff.request(alice, "又断网了，找上次的客服")
    assert again.outcome is Outcome.ROUTED and again.agent_name == "小王"
    assert again.session.agent == "wang" and again.session.status is SessionStatus.ACTIVE


def test_owner_offline_queues_with_owner_shown_and_responsibility_stays(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    token = staff.login("wang", "wang-pass-1")[0]
    ticket = complaint(tickets, alice)
    first = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, first.id)
    handoff.close(wang, first.id)
    staff.logout(token)
    _offline(staff, "wang")  # the first login's presence lapses too
    li = login(staff, "li")
    placement = handoff.request(alice, "转人工")
    assert placement.outcome is Outcome.QUEUED and placement.session.owner == "wang"
    cursor, events = handoff.events_after(0)
    assert "owner_notified" in [e.kind for e in events]
    taken = handoff.accept(li, placement.session.id)
    assert taken.agent == "li" and taken.owner == "wang"
    assert tickets.get(alice, ticket.number).responsible == "wang"


def _offline(staff: StaffService, username: str) -> None:
    import sqlalchemy as sa

    from bot.storage.models import AgentRow

    with staff.db.transaction() as session:
        session.execute(sa.update(AgentRow).where(AgentRow.username == username).values(online_until=None))


def test_transfer_moves_responsibility_only_when_accepted(handoff, staff, tickets, alice):
    wang, li = login(staff, "wang"), login(staff, "li")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    with pytest.raises(InvalidInput):
        handoff.transfer(wang, session.id, "wang", "")  # to oneself
    with pytest.raises(InvalidInput):
        handoff.transfer(wang, session.id, "nobody", "")
    offered = handoff.transfer(wang, session.id, "li", "涉及宽带装维，转装维专席")
    assert offered.transfer_to == "li" and offered.owner == "wang"
    assert tickets.get(alice, ticket.number).responsible == "wang"
    handoff.decline_transfer(li, session.id)
    handoff.transfer(wang, session.id, "li", "涉及宽带装维，转装维专席")
    with pytest.raises(Forbidden):
        handoff.accept_transfer(wang, session.id)
    moved = handoff.accept_transfer(li, session.id)
    assert moved.owner == moved.agent == "li" and moved.transfer_to is None
    history = [e for e in tickets.get(alice, ticket.number).events if e.kind in RESPONSIBILITY_KINDS]
    assert history[-1].kind == "transferred" and history[-1].detail.startswith("wang -> li") and "装维专席" in history[-1].detail
    assert history[-1].actor == "li"
    with pytest.raises(Forbidden):
        handoff.post(wang, session.id, "我还在吗")


def test_sweep_requeues_sessions_of_agents_who_left_and_turns_waits_into_call_backs(
    handoff, staff, tickets, alice, bob, clock
):
    wang = login(staff, "wang")
    held = handoff.request(alice, "转人工", complaint(tickets, alice)).session
    handoff.accept(wang, held.id)
    waiting = handoff.request(bob, "转人工", complaint(tickets, bob)).session
    assert handoff.sweep() == 0
    clock.now += timedelta(minutes=5)  # wang closed the console without handing back
    assert handoff.sweep() == 3  # alice back to the queue, then both queued ones to call-back
    by_id = {s.id: s for s in handoff.queue(None)}
    assert by_id[held.id].status is SessionStatus.CALLBACK and by_id[held.id].owner == "wang"
    assert by_id[waiting.id].status is SessionStatus.CALLBACK and by_id[waiting.id].callback_due is not None
    told = [m.text for m in handoff.pending_deliveries("rest", "alice")]
    assert "重新排队" in told[-2] and "没有人工客服在线" in told[-1]
    assert handoff.customer_message(alice, "查话费") is None  # the bot answers again
    assert handoff.sweep() == 0
