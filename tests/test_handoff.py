"""Handoff sessions under first-contact responsibility, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput, NotFound, WrongState
from bot.handoff import DELIVERY_LEASE, GateState, SessionStatus, is_leave
from bot.tickets import RESPONSIBILITY_KINDS, Customer, Status
from tests.handoff_support import complaint, handoff_fixture, login, staff_fixture, tickets_fixture  # noqa: F401


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


def test_the_gate_state_follows_the_handoff_and_the_deliveries(handoff, staff, alice, bob, clock):
    """What the channel gate reads in one statement before the bot may answer (bot/handoff/routing.py)."""
    wang = login(staff, "wang")
    assert handoff.gate_state(alice) == GateState(pending=False, with_human=False)
    session = handoff.request(alice, "转人工").session
    assert handoff.gate_state(alice) == GateState(pending=False, with_human=True)  # waiting
    handoff.accept(wang, session.id)
    message = handoff.post(wang, session.id, "您好，请讲")
    assert handoff.gate_state(alice) == GateState(pending=True, with_human=True)
    assert handoff.gate_state(bob) == GateState(pending=False, with_human=False)  # only alice's
    waiting = [m.id for m in handoff.pending_deliveries("rest", "alice")]  # the "accepted" notice too
    assert message.id in waiting
    assert all(handoff.claim_delivery(i) for i in waiting)
    assert handoff.gate_state(alice).pending is False  # held by a process that is sending them
    clock.now += DELIVERY_LEASE + timedelta(seconds=1)
    assert handoff.gate_state(alice).pending is True  # the claims ran out: to be offered again
    for i in waiting:
        handoff.delivered(i)
    assert handoff.gate_state(alice).pending is False
    assert handoff.customer_message(alice, "返回机器人").cancelled
    assert handoff.gate_state(alice) == GateState(pending=False, with_human=False)


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
