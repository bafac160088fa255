"""Notes apart from replies, the follow-up after a chat, call-backs by phone, ticket corrections and
the ticket search (bot/handoff/followup.py, ticket_edits.py, customer_view.py), on the store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput, NotFound, WrongState
from bot.handoff import SessionStatus
from bot.storage.models import HandoffMessageRow
from bot.tickets import Customer, Status
from tests.handoff_support import complaint, handoff_fixture, login, staff_fixture, tickets_fixture  # noqa: F401


def customer_texts(handoff, customer):
    return [m.text for m in handoff.messages_for_customer(customer, 0, 500)]


def stored_to_customer(db, customer):
    with db.transaction() as session:
        return [
            (m.text, m.to_customer)
            for m in session.query(HandoffMessageRow).filter_by(channel=customer.channel, channel_user_id=customer.user_id)
        ]


def test_resolving_keeps_the_internal_note_from_the_customer(db, handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    with pytest.raises(InvalidInput):
        handoff.resolve_ticket(wang, ticket.number, " ", " ")
    resolved = handoff.resolve_ticket(wang, ticket.number, "座机线路故障，已派装维，电话0571-88886666", "已为您修复宽带线路")
    texts = customer_texts(handoff, alice)
    assert any("已为您修复宽带线路" in t for t in texts)
    assert not any("座机线路故障" in t for t in texts)
    assert not any("座机线路故障" in text for text, _ in stored_to_customer(db, alice))
    history = {e.kind: e.detail for e in resolved.events}
    assert "座机线路故障" in history["status_changed"] and "已为您修复宽带线路" in history["survey_sent"]


def test_without_a_message_the_customer_gets_the_standard_text_never_the_note(db, handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    ticket = complaint(tickets, alice)
    handoff.accept(wang, handoff.request(alice, "转人工", ticket).session.id)
    handoff.resolve_ticket(wang, ticket.number, "内部：客户脾气急")
    texts = customer_texts(handoff, alice)
    assert any(f"您的工单 {ticket.number} 已处理完成" in t for t in texts)
    assert not any("脾气" in text for text, _ in stored_to_customer(db, alice))


def test_a_session_note_is_shown_to_staff_and_never_delivered(db, handoff, staff, tickets, alice):
    wang, li = login(staff, "wang"), login(staff, "li")
    session = handoff.request(alice, "转人工", complaint(tickets, alice)).session
    handoff.accept(wang, session.id)
    with pytest.raises(Forbidden):
        handoff.session_note(li, session.id, "插一句")
    note = handoff.session_note(wang, session.id, "客户情绪激动，先安抚")
    assert note.sender == "note" and note.agent_name == "小王"
    assert [m.text for m in handoff.transcript(wang, session.id) if m.sender == "note"] == ["客户情绪激动，先安抚"]
    assert "客户情绪激动，先安抚" not in customer_texts(handoff, alice)
    assert all(m.text != "客户情绪激动，先安抚" for m in handoff.pending_deliveries())
    assert ("客户情绪激动，先安抚", False) in stored_to_customer(db, alice)


def test_a_progress_update_after_the_chat_reaches_the_customer_and_moves_the_due_time(handoff, staff, tickets, alice, clock):
    wang, li = login(staff, "wang"), login(staff, "li")
    ticket = complaint(tickets, alice)
    session = handoff.request(alice, "转人工", ticket).session
    handoff.accept(wang, session.id)
    handoff.close(wang, session.id)
    clock.now += timedelta(hours=20)
    with pytest.raises(Forbidden):
        handoff.send_progress(li, ticket.number, "在查")
    updated = handoff.send_progress(wang, ticket.number, "装维师傅明早九点上门")
    assert abs(updated.progress_due - (clock.now + timedelta(hours=24))) < timedelta(seconds=1)
    assert updated.events[-1].kind == "progress_update" and "装维师傅明早九点上门" in updated.events[-1].detail
    assert any("装维师傅明早九点上门" in t and "小王" in t for t in customer_texts(handoff, alice))
    noted = handoff.ticket_note(wang, ticket.number, "内部：等装维回单")
    assert noted.events[-1].kind == "internal_note"
    assert not any("等装维回单" in t for t in customer_texts(handoff, alice))
    handoff.resolve_ticket(wang, ticket.number, "", "已修复")
    with pytest.raises(WrongState):
        handoff.send_progress(wang, ticket.number, "再说一句")


def callback_session(handoff, tickets, customer):
    ticket = tickets.open_complaint(customer, Category.NETWORK, "家里宽带断网三天", "13800001111")[0]
    session = handoff.request(customer, "转人工", ticket).session  # nobody online: a call-back
    return ticket, session


def test_call_backs_reveal_the_phone_to_their_handler_and_record_outcomes(handoff, staff, tickets, alice, clock):
    ticket, session = callback_session(handoff, tickets, alice)
    wang, li, boss = login(staff, "wang"), login(staff, "li"), login(staff, "boss")
    [queued] = [s for s in handoff.queue(wang) if s.id == session.id]
    assert queued.status is SessionStatus.CALLBACK
    assert handoff.reveal_phone(wang, session.id) == (alice, "13800001111")  # wang takes the call-back
    with pytest.raises(Forbidden):
        handoff.reveal_phone(li, session.id)
    assert handoff.reveal_phone(boss, session.id)[1] == "13800001111"

    handoff.callback_outcome(wang, session.id, "no_answer", "关机")
    [queued] = [s for s in handoff.queue(li) if s.id == session.id]
    assert queued.status is SessionStatus.CALLBACK and queued.agent is None  # anyone may call next
    later = clock.now + timedelta(hours=3)
    with pytest.raises(InvalidInput):
        handoff.callback_outcome(li, session.id, "retry", "", clock.now - timedelta(minutes=1))
    handoff.callback_outcome(li, session.id, "retry", "客户说下午再打", later)
    [queued] = [s for s in handoff.queue(li) if s.id == session.id]
    assert queued.callback_due == later
    done = handoff.callback_outcome(li, session.id, "reached", "已约上门")
    assert done.responsible == "li"
    kinds = [(e.kind, e.actor) for e in done.events if e.kind.startswith("callback_")]
    assert kinds[-3:] == [("callback_attempt", "wang"), ("callback_rescheduled", "li"), ("callback_reached", "li")]
    assert "第1次" in done.events[-4].detail or any("第1次" in e.detail for e in done.events)
    assert session.id not in [s.id for s in handoff.queue(li)]
    assert not any("已接入" in t for t in customer_texts(handoff, alice))
    with pytest.raises(WrongState):
        handoff.callback_outcome(li, session.id, "reached")


def test_corrections_are_written_to_the_history_with_who_and_why(handoff, staff, tickets, alice):
    wang, li = login(staff, "wang"), login(staff, "li")
    ticket = tickets.open_complaint(alice, Category.OTHER, "流量套餐怎么改成便宜一点的", None)[0]
    handoff.accept(wang, handoff.request(alice, "转人工", ticket).session.id)
    assert ticket.masked_phone == "未提供"
    with pytest.raises(Forbidden):
        handoff.correct_ticket(li, ticket.number, "category", "business")
    moved = handoff.correct_ticket(wang, ticket.number, "category", "business", "其实是套餐变更")
    assert moved.category is Category.BUSINESS and moved.department.value == "business_office"
    assert moved.resolve_due == moved.created_at + timedelta(hours=48)
    with pytest.raises(InvalidInput):
        handoff.correct_ticket(wang, ticket.number, "severity", "major", "")
    raised = handoff.correct_ticket(wang, ticket.number, "severity", "major", "客户多次投诉")
    assert raised.severity.value == "major" and raised.severity_reason == "客户多次投诉"
    with pytest.raises(InvalidInput):
        handoff.correct_ticket(wang, ticket.number, "contact_phone", "12345")
    phoned = handoff.correct_ticket(wang, ticket.number, "contact_phone", "0571-8888 6666", "客户在对话中提供")
    assert phoned.contact_phone == "0571-88886666" and phoned.masked_phone == "057****6666"
    last = phoned.events[-1]
    assert last.kind == "contact_phone_changed" and last.actor == "wang" and "88886666" not in last.detail


def test_search_follows_who_may_see_which_ticket(handoff, staff, tickets, alice):
    wang, li, boss = login(staff, "wang"), login(staff, "li"), login(staff, "boss")
    bob = Customer("telegram", "bob")
    mine = complaint(tickets, alice, "光猫红灯闪烁上不了网")
    other = tickets.open_complaint(bob, Category.BILLING, "光猫租金多扣了", "13900002222")[0]
    handoff.accept(wang, handoff.request(alice, "转人工", mine).session.id)
    assert [t.number for t in handoff.search_tickets(wang, "text", "光猫")] == [mine.number]
    assert {t.number for t in handoff.search_tickets(boss, "text", "光猫")} >= {mine.number, other.number}
    assert handoff.search_tickets(li, "text", "光猫") == []
    assert [t.number for t in handoff.search_tickets(wang, "number", mine.number.lower())] == [mine.number]
    with pytest.raises(Forbidden):
        handoff.search_tickets(wang, "phone", "13900002222")
    assert [t.number for t in handoff.search_tickets(boss, "phone", "139 0000 2222")] == [other.number]
    with pytest.raises(NotFound):
        handoff.ticket(li, mine.number)
    assert handoff.ticket(wang, mine.number).number == mine.number


def test_the_customer_panel_shows_closed_and_phone_linked_tickets(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    first = complaint(tickets, alice)
    tickets.transition(first.number, Status.RESOLVED, "wang", "已处理")
    elsewhere = tickets.open_complaint(Customer("telegram", "alice-tg"), Category.BILLING, "多扣费", "13800001111")[0]
    stranger = tickets.open_complaint(Customer("telegram", "x"), Category.BILLING, "多扣费", "13900009999")[0]
    now = complaint(tickets, alice, "又断网了")
    session = handoff.request(alice, "转人工", now).session
    handoff.accept(wang, session.id)
    profile = handoff.customer_profile(wang, session.id)
    numbers = {t.number for t in profile.tickets}
    assert {first.number, elsewhere.number, now.number} <= numbers and stranger.number not in numbers
    assert profile.channels[0] == alice and Customer("telegram", "alice-tg") in profile.channels
    assert [s.id for s in profile.sessions] == [session.id]
