"""Deadlines watched, escalation decided, result and survey fed back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput, WrongState
from bot.handoff import HandoffService, WorkingHours
from bot.lifecycle import DeadlineWatch, Escalations, Feedback, parse_rating
from bot.severity import Severity
from bot.staff import Role, StaffService
from bot.tickets import Customer, Status, TicketService

ALICE = Customer("telegram", "424242")


@pytest.fixture
def staff(db, clock) -> StaffService:
    service = StaffService(db, clock)
    service.add("wang", "小王", "wang-pass-1")
    service.add("boss", "赵主管", "boss-pass-1", Role.SUPERVISOR)
    return service


@pytest.fixture
def tickets(db, clock) -> TicketService:
    return TicketService(db, clock)


def member(staff, name):
    return staff.login(name, f"{name}-pass-1")[2]


def notices(db, customer=ALICE):
    return HandoffService(db, StaffService(db)).pending_deliveries(customer.channel, customer.user_id)


def events(tickets, number, kind):
    return [e for e in tickets.get(ALICE, number).events if e.kind == kind]


def test_each_breach_is_written_once_and_the_progress_duty_is_watched(db, tickets, clock):
    watch = DeadlineWatch(db, clock)
    ticket = tickets.open_complaint(ALICE, Category.NETWORK, "宽带经常断网，一天断好几次", "13800001111")[0]
    assert watch.scan() == 0
    clock.now += timedelta(hours=25)  # past the 24 h first response
    assert watch.scan() == 1 and watch.scan() == 0
    [breach] = events(tickets, ticket.number, "deadline_breached")
    assert "首次响应超时" in breach.detail
    tickets.assign(ticket.number, "wang", "wang")  # responded; owes progress within 24 h
    clock.now += timedelta(hours=25)  # past resolution (48 h) and the progress update
    assert watch.scan() == 2 and watch.scan() == 0
    details = [e.detail for e in events(tickets, ticket.number, "deadline_breached")]
    assert any("处理超时" in d for d in details) and any("更新进度" in d for d in details)


def test_two_watchers_record_a_breach_once(db, tickets, clock):
    ticket = tickets.open_complaint(ALICE, Category.NETWORK, "宽带经常断网，一天断好几次", "13800001111")[0]
    clock.now += timedelta(hours=25)
    assert DeadlineWatch(db, clock).scan() + DeadlineWatch(db, clock).scan() == 1
    assert len(events(tickets, ticket.number, "deadline_breached")) == 1


def test_attention_lists_what_is_near_or_late(db, tickets, staff, clock):
    watch = DeadlineWatch(db, clock)
    ticket = tickets.open_complaint(ALICE, Category.NETWORK, "整个小区都断网了", "13800001111")[0]  # urgent: 15 min
    wang, boss = member(staff, "wang"), member(staff, "boss")
    [item] = watch.attention(boss)  # supervisors see every ticket
    assert (item.ticket.number, item.deadline, item.overdue) == (ticket.number, "response", False)
    assert watch.attention(wang) == []  # not wang's yet
    tickets.assign(ticket.number, "wang", "wang")
    clock.now += timedelta(hours=22)  # resolution (24 h) and the progress update are near
    [item] = watch.attention(wang)
    assert item.deadline in ("resolve", "progress") and not item.overdue
    clock.now += timedelta(days=2)
    assert watch.attention(wang)[0].overdue


def test_resolution_sends_result_and_survey_and_a_good_score_closes(db, tickets, clock):
    ticket = tickets.open_complaint(ALICE, Category.BILLING, "这个月多扣了50元", "13800001111")[0]
    tickets.assign(ticket.number, "wang", "wang")
    tickets.transition(ticket.number, Status.RESOLVED, "wang", "已退还50元")
    result, survey = notices(db)
    assert "已退还50元" in result.text and ticket.number in result.text
    assert [b["payload"] for b in survey.buttons] == ["/rate_5", "/rate_4", "/rate_3", "/rate_2", "/rate_1", "/not_solved"]
    feedback = Feedback(db, clock)
    assert feedback.answer(ALICE, "查话费") is None  # not a survey answer
    assert "感谢" in feedback.answer(ALICE, "/rate_5")
    assert tickets.get(ALICE, ticket.number).status is Status.CLOSED
    assert feedback.answer(ALICE, "评价：退款很快，谢谢") == "已记录您的意见，谢谢！"
    assert events(tickets, ticket.number, "rating_comment")[0].detail == "退款很快，谢谢"


@pytest.mark.parametrize("answer", ["/rate_2", "1分", "没解决"])
def test_a_low_score_reopens_to_the_same_person_with_a_follow_up(db, tickets, clock, answer):
    ticket = tickets.open_complaint(ALICE, Category.NETWORK, "网速很慢", "13800001111")[0]
    tickets.assign(ticket.number, "wang", "wang")
    tickets.transition(ticket.number, Status.RESOLVED, "wang", "已调整端口")
    reply = Feedback(db, clock).answer(ALICE, answer)
    assert "重新处理" in reply
    after = tickets.get(ALICE, ticket.number)
    assert after.status is Status.REOPENED and after.responsible == "wang"
    assert events(tickets, ticket.number, "follow_up_scheduled")


def test_an_unanswered_survey_closes_the_ticket_after_72_hours(db, tickets, clock):
    ticket = tickets.open_complaint(ALICE, Category.OTHER, "营业员态度不好", "13800001111")[0]
    tickets.transition(ticket.number, Status.RESOLVED, "wang", "已批评教育")
    clock.now += timedelta(hours=71)
    DeadlineWatch(db, clock).scan()
    assert tickets.get(ALICE, ticket.number).status is Status.RESOLVED
    clock.now += timedelta(hours=2)
    DeadlineWatch(db, clock).scan()
    closed = tickets.get(ALICE, ticket.number)
    assert closed.status is Status.CLOSED and "未评价" in closed.events[-1].detail
    assert Feedback(db, clock).answer(ALICE, "/rate_5") is None  # too late to rate


def test_survey_answers_are_recognised():
    assert parse_rating("/rate_4") == (4, False) and parse_rating("3分") == (3, False)
    assert parse_rating("五分！") == (5, False) and parse_rating("没解决") == (None, True)
    assert parse_rating("我要办5G套餐") == (None, False) and parse_rating("12") == (None, False)
    assert parse_rating("2") == (None, False)  # may answer a numbered list: a score needs 分 or the button
    assert parse_rating("不满意") == (None, False)


def test_an_escalation_the_assistant_announces_itself_queues_no_notice(db, tickets, clock):
    """Asked for in the customer's own turn, the request is told in that reply (actions/handoff.py); a
    notice as well would reach a channel that cannot push one turn late, as an answer to anything."""
    ticket = tickets.open_complaint(ALICE, Category.BILLING, "乱扣费，再不退我就打12300", "13800001111")[0]
    _request, created = Escalations(db, clock).request(ticket.number, "automatic", "bot", "监管投诉", notify=False)
    assert created
    assert not any("升级申请" in m.text for m in notices(db))
    assert "escalation_requested" in [e.kind for e in tickets.get(ALICE, ticket.number).events]


def test_escalation_is_decided_by_a_supervisor_and_the_customer_is_told(db, tickets, staff, clock):
    ticket = tickets.open_complaint(ALICE, Category.BILLING, "乱扣费，要求退款", "13800001111")[0]
    tickets.assign(ticket.number, "wang", "wang")
    escalations = Escalations(db, clock)
    request, created = escalations.request(ticket.number, "customer", "customer", "要求主管处理")
    again, created_again = escalations.request(ticket.number, "agent", "wang", "超出权限")
    assert created and not created_again and again.id == request.id  # one pending request per ticket
    wang, boss = member(staff, "wang"), member(staff, "boss")
    with pytest.raises(Forbidden):
        escalations.accept(wang, request.id, "boss", "同意")
    with pytest.raises(InvalidInput):
        escalations.accept(boss, request.id, "nobody", "同意")
    assert [e.id for e in escalations.pending(boss)] == [request.id]
    accepted = escalations.accept(boss, request.id, "boss", "金额较大，由主管跟进")
    assert accepted.status == "accepted" and accepted.handler == "boss"
    after = tickets.get(ALICE, ticket.number)
    assert after.escalation_level == 1 and after.handler == "boss" and after.severity is Severity.MAJOR
    assert after.responsible == "wang"  # the first responsible person stays responsible
    assert after.resolve_due < ticket.resolve_due  # deadlines recomputed for the higher severity
    with pytest.raises(WrongState):
        escalations.decline(boss, request.id, "晚了")
    told = [m.text for m in notices(db)]
    assert any("已提交升级申请" in t for t in told) and any("已升级处理，由赵主管负责跟进" in t for t in told)
    second, _ = escalations.request(ticket.number, "customer", "customer", "还是不满意")
    escalations.decline(boss, second.id, "已在处理中")
    assert any("暂不升级，原因：已在处理中" in m.text for m in notices(db))


def test_ticket_history_kinds_reach_the_feed_for_consoles(db, tickets, clock):
    handoff = HandoffService(db, StaffService(db), WorkingHours(), clock)
    start = handoff.latest_event_id()
    ticket = tickets.open_complaint(ALICE, Category.NETWORK, "宽带断网了", "13800001111")[0]
    Escalations(db, clock).request(ticket.number, "automatic", "bot", "紧急")
    assert [e.kind for e in handoff.events_after(start)[1]] == ["escalation_requested"]
