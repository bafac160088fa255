"""Handoff sessions under first-contact responsibility, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput, NotFound, Taken, WrongState
from bot.handoff import (
    DELIVERY_LEASE,
    HandoffService,
    Outcome,
    SessionStatus,
    WorkingHours,
    is_cancel,
    is_leave,
)
from bot.staff import Role, StaffService
from bot.tickets import RESPONSIBILITY_KINDS, Customer, Status, TicketService


@pytest.fixture
def staff(db, clock) -> StaffService:
    service = StaffService(db, clock)
    service.add("wang", "小王", "wang-pass-1")
    service.add("li", "小李", "li-pass-12")
    service.add("boss", "赵主管", "boss-pass-1", Role.SUPERVISOR)
    return service


@pytest.fixture
def tickets(db, clock) -> TicketService:
    return TicketService(db, clock)


@pytest.fixture
def handoff(db, staff, clock) -> HandoffService:
    return HandoffService(db, staff, WorkingHours(), clock)


def login(staff: StaffService, username: str):
    return staff.login(username, "li-pass-12" if username == "li" else f"{username}-pass-1")[2]


def complaint(tickets: TicketService, customer: Customer, text: str = "家里宽带三天都连不上网"):
    return tickets.open_complaint(customer, Category.NETWORK, text, "13800001111")[0]


def test_nobody_online_promises_a_call_back_and_keeps_the_request(handoff, tickets, alice):
    ticket = complaint(tickets, alice)
    placement = handoff.request(alice, "客户要求转人工", ticket, [("customer", "宽带断了"), ("bot", "已登记")])
    assert placement.outcome is Outcome.UNAVAILABLE
    assert placement.callback_due is not None and placement.callback_due <= ticket.response_due
    assert handoff.session_for(alice) is None  # the bot keeps answering meanwhile
    assert [e.kind for e in tickets.get(alice, ticket.number).events][-1] == "callback_requested"
    queued = handoff.queue(None)
    assert [s.id for s in queued] == [placement.session.id] and queued[0].status is SessionStatus.CALLBACK


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


def test_supervisor_sees_everything_and_reassigns(handoff, staff, tickets, alice):
    wang, li, boss = login(staff, "wang"), login(staff, "li"), login(staff, "boss")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    with pytest.raises(Forbidden):
        handoff.transcript(li, session.id)
    with pytest.raises(Forbidden):
        handoff.sessions(li, everyone=True)
    with pytest.raises(Forbidden):
        handoff.reassign(li, session.id, "li", "我来")
    assert [s.id for s in handoff.sessions(boss, everyone=True)] == [session.id]
    assert handoff.sessions(li) == []
    moved = handoff.reassign(boss, session.id, "li", "小王下班")
    assert moved.owner == moved.agent == "li"
    last = [e for e in tickets.get(alice, ticket.number).events if e.kind in RESPONSIBILITY_KINDS][-1]
    assert last.kind == "reassigned" and last.actor == "boss" and "小王下班" in last.detail


def test_agent_messages_wait_for_delivery_and_count_as_progress_updates(handoff, staff, tickets, alice, clock):
    wang = login(staff, "wang")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    clock.now += timedelta(hours=5)
    message = handoff.post(wang, session.id, "<b>您好</b>，正在为您查询")
    assert message.customer == alice
    due = tickets.get(alice, ticket.number).progress_due
    assert due > clock.now + timedelta(hours=23)
    pending = handoff.pending_deliveries("rest", "alice")
    assert pending[-1].text == "<b>您好</b>，正在为您查询" and pending[-1].agent_name == "小王"
    assert handoff.claim_delivery(pending[-1].id) and not handoff.claim_delivery(pending[-1].id)
    assert [t.number for t in handoff.progress_due(wang)] == [ticket.number]


def test_a_message_held_by_a_process_that_died_is_offered_again(handoff, staff, alice, clock):
    """Claiming holds a message for a while; only the channel's acceptance marks it delivered."""
    wang = login(staff, "wang")
    session = handoff.request(alice, "转人工").session
    handoff.accept(wang, session.id)
    message = handoff.post(wang, session.id, "您好，请讲")

    def offered():
        return [m.id for m in handoff.pending_deliveries("rest", "alice")]

    assert message.id in offered()
    assert handoff.claim_delivery(message.id)  # a process takes it ... and dies before sending it
    assert message.id not in offered() and not handoff.claim_delivery(message.id)  # held meanwhile
    clock.now += DELIVERY_LEASE + timedelta(seconds=1)
    assert message.id in offered()  # the claim ran out: not lost
    assert handoff.claim_delivery(message.id)
    handoff.unclaim_delivery(message.id)  # the channel could not reach the customer right now
    assert message.id in offered() and handoff.claim_delivery(message.id)
    handoff.delivered(message.id)
    clock.now += DELIVERY_LEASE * 2
    assert message.id not in offered() and not handoff.claim_delivery(message.id)
    replay = handoff.messages_for_customer(alice, 0)
    assert [m.id for m in replay if m.id == message.id] == [message.id]  # the id clients drop repeats by


def test_release_hands_the_customer_back_to_the_bot(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    session = handoff.request(alice, "转人工", complaint(tickets, alice)).session
    handoff.accept(wang, session.id)
    assert handoff.customer_message(alice, "你好") is not None
    released = handoff.release(wang, session.id)
    assert released.status is SessionStatus.RELEASED
    assert handoff.customer_message(alice, "你好") is None
    with pytest.raises(WrongState):
        handoff.post(wang, session.id, "还在吗")


def test_resolving_a_ticket_needs_its_responsible_agent(handoff, staff, tickets, alice):
    wang, li = login(staff, "wang"), login(staff, "li")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    with pytest.raises(Forbidden):
        handoff.resolve_ticket(li, ticket.number, "已修复")
    with pytest.raises(InvalidInput):
        handoff.resolve_ticket(wang, ticket.number, " ")
    resolved = handoff.resolve_ticket(wang, ticket.number, "更换光猫后恢复")
    assert resolved.status is Status.RESOLVED and resolved.progress_due is None
    assert "更换光猫后恢复" in resolved.events[-2].detail and resolved.events[-1].kind == "survey_sent"


def test_escalation_keeps_the_agent_responsible(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    escalated = handoff.escalate(wang, session.id, "客户要求赔偿，超出权限")
    assert escalated.escalated_at is not None and escalated.owner == "wang"
    assert tickets.get(alice, ticket.number).events[-1].kind == "escalation_requested"  # to the supervisors' queue


def test_an_escalation_is_all_or_nothing(handoff, staff, tickets, alice, monkeypatch):
    """Review L12: the session and each of the customer's tickets used to be escalated in separate
    transactions, so a failure part-way left half an escalation. Now nothing is kept."""
    from bot.errors import StoreUnavailable
    from bot.lifecycle import Escalations

    wang = login(staff, "wang")
    first = complaint(tickets, alice)
    second = tickets.open_complaint(alice, Category.BILLING, "这个月话费多扣了五十块", "13812345678")[0]
    session = handoff.request(alice, "转人工", first).session
    handoff.accept(wang, session.id)
    original, calls = Escalations.request_in, []

    def fails_on_the_second(self, *args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise StoreUnavailable("OperationalError")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Escalations, "request_in", fails_on_the_second)
    with pytest.raises(StoreUnavailable):
        handoff.escalate(wang, session.id, "客户要求赔偿，超出权限")
    assert handoff.detail(wang, session.id)[0].escalated_at is None
    for number in (first.number, second.number):
        assert tickets.get(alice, number).events[-1].kind != "escalation_requested"
    monkeypatch.setattr(Escalations, "request_in", original)
    handoff.escalate(wang, session.id, "客户要求赔偿，超出权限")  # the retry does all of it
    assert all(tickets.get(alice, n).events[-1].kind == "escalation_requested" for n in (first.number, second.number))


def test_feed_reports_changes_in_order(handoff, staff, tickets, alice):
    start = handoff.latest_event_id()
    wang = login(staff, "wang")
    session = handoff.request(alice, "转人工", complaint(tickets, alice)).session
    handoff.accept(wang, session.id)
    cursor, events = handoff.events_after(start)
    assert [e.kind for e in events] == ["requested", "accepted"] and cursor == events[-1].id
    assert handoff.events_after(cursor) == (cursor, [])


def test_customer_talking_to_an_agent_can_go_back_to_the_bot(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    session = handoff.request(alice, "转人工", complaint(tickets, alice)).session
    handoff.accept(wang, session.id)
    assert not handoff.customer_message(alice, "取消").cancelled  # may be part of the conversation
    assert handoff.customer_message(alice, "   ") is not None  # blank: not for the bot either
    assert handoff.customer_message(alice, "返回机器人").cancelled
    assert handoff.customer_message(alice, "查话费") is None
    assert handoff.transcript(wang, session.id)[-1].text == "客户结束人工服务，返回智能助手"
    assert is_leave("返回机器人。") and not is_leave("取消") and not is_leave("/cancel_handoff")


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


def test_customer_replay_and_reachable_deliveries(handoff, staff, tickets, alice, bob):
    wang = login(staff, "wang")
    for customer in (alice, bob):
        session = handoff.request(customer, "转人工", complaint(tickets, customer)).session
        handoff.accept(wang, session.id)
        handoff.post(wang, session.id, f"你好 {customer.user_id}")
    assert {m.customer for m in handoff.pending_deliveries(user_ids=["bob"])} == {bob}
    assert handoff.pending_deliveries(user_ids=[]) == []
    replay = handoff.messages_for_customer(alice, 0)
    assert [m.text for m in replay] == ["客服小王已接入，正在为您服务。", "你好 alice"]
    assert handoff.messages_for_customer(alice, replay[0].id) == replay[1:]


def test_bad_session_ids_are_not_found(handoff, staff):
    wang = login(staff, "wang")
    for bad in (0, -1, 2**70):
        with pytest.raises(NotFound):
            handoff.accept(wang, bad)
        with pytest.raises(NotFound):
            handoff.transcript(wang, bad)


def test_state_changes_after_the_end_are_conflicts(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    session = handoff.request(alice, "转人工", complaint(tickets, alice)).session
    handoff.accept(wang, session.id)
    handoff.close(wang, session.id)
    for change in (lambda: handoff.release(wang, session.id), lambda: handoff.accept(wang, session.id)):
        with pytest.raises(WrongState):
            change()


def test_the_console_label_never_spells_out_a_customer_id():
    from bot.handoff import masked_customer

    for user_id in ("12239521", "1223952101", "a3f9c2d41e7b4c0f9a1b2c3d4e5f6a7b"):
        assert user_id not in masked_customer(Customer("telegram", user_id))
