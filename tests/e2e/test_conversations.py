"""Whole conversations through Rasa's REST channel against the real servers."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import requests
import yaml

from bot.categories import Category
from bot.storage.database import Database
from bot.tickets import Customer, TicketService
from tests.e2e.servers import ROOT, Stack

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")
FAQ = yaml.safe_load((ROOT / "bot" / "dialogue" / "domain" / "faq.yml").read_text(encoding="utf-8"))["responses"]


def new_sender() -> str:
    return uuid.uuid4().hex


def tickets_of(stack: Stack, sender: str):
    return TicketService(Database(stack.ticket_db)).list_for(Customer("rest", sender))


def file_complaint(stack: Stack, sender: str, first_message: str, phone: str = "13812345678") -> str:
    """Runs a complaint through to the confirmation; returns the ticket number."""
    replies = stack.texts(stack.say(sender, first_message))
    if "描述" in replies:
        replies = stack.texts(stack.say(sender, "从昨天开始一直这样，影响很大"))
    assert "手机号" in replies, replies
    replies = stack.texts(stack.say(sender, phone))
    assert "请确认" in replies and "138****5678" in replies, replies
    confirmation = stack.texts(stack.say(sender, "确认"))
    assert "登记成功" in confirmation, confirmation
    return NUMBER.search(confirmation).group(0)


@pytest.mark.parametrize(
    "message, category, department, resolve_hours",
    [
        ("家里宽带这两天老是断网，晚上根本没法用", Category.NETWORK, "网络运维部", 48),
        ("这个月话费莫名其妙多扣了50块，我没订过什么业务", Category.BILLING, "计费中心", 72),
        ("上周申请的套餐变更到现在都没生效", Category.BUSINESS, "营业受理中心", 48),
        ("营业厅那个工作人员态度太差了，爱答不理的", Category.OTHER, "客服中心", 72),
    ],
)
def test_each_category_lands_as_a_ticket(stack, message, category, department, resolve_hours):
    sender = new_sender()
    replies = stack.texts(stack.say(sender, message))
    assert "描述" not in replies  # the first message already said what happened
    assert "手机号" in replies
    stack.texts(stack.say(sender, "13812345678"))
    confirmation = stack.texts(stack.say(sender, "确认"))
    number = NUMBER.search(confirmation).group(0)
    assert category.label in confirmation and department in confirmation
    assert "首次响应" in confirmation and "处理完成" in confirmation
    [ticket] = tickets_of(stack, sender)
    assert ticket.number == number
    assert ticket.category is category and ticket.department.label == department
    assert ticket.resolve_due - ticket.created_at == timedelta(hours=resolve_hours)
    assert ticket.response_due - ticket.created_at == timedelta(hours=24)
    assert ticket.contact_phone == "13812345678"


def test_vague_complaint_is_asked_for_a_description(stack):
    sender = new_sender()
    first = stack.texts(stack.say(sender, "我要投诉"))
    assert "描述" in first
    assert "简略" not in first and "号码" not in first  # nothing the customer did not say is judged
    file_complaint(stack, sender, "就是你们的网，从昨天晚上开始一直断断续续的")
    [ticket] = tickets_of(stack, sender)
    assert "断断续续" in ticket.description


def test_phone_in_first_message_is_not_asked_again(stack):
    sender = new_sender()
    replies = stack.texts(stack.say(sender, "手机信号太差了，在家里打电话老是断，我电话13900001111"))
    assert "手机号" not in replies and "请确认" in replies and "139****1111" in replies


def test_entities_are_extracted(stack):
    parsed = stack.parse("电话写错了，是13900002222")
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("phone_number", "13900002222")]
    parsed = stack.parse("查一下ts261122k7q4m9xd")
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("ticket_id", "ts261122k7q4m9xd")]


def test_phone_can_be_corrected_at_the_confirmation(stack):
    sender = new_sender()
    stack.say(sender, "宽带晚上老掉线，打游戏延迟特别高")
    assert "138****5678" in stack.texts(stack.say(sender, "13812345678"))
    corrected = stack.texts(stack.say(sender, "电话写错了，是13900002222"))
    assert "请确认" in corrected and "139****2222" in corrected, corrected
    assert "登记成功" in stack.texts(stack.say(sender, "嗯嗯"))
    [ticket] = tickets_of(stack, sender)
    assert ticket.contact_phone == "13900002222"


def test_declining_the_confirmation_files_nothing(stack):
    sender = new_sender()
    stack.say(sender, "宽带网速特别慢，100M的宽带测速只有5M，电话13812345678")
    assert "确定不登记" in stack.texts(stack.say(sender, "不用了"))  # confirmed before anything is dropped
    assert "已取消" in stack.texts(stack.say(sender, "确定取消"))
    assert tickets_of(stack, sender) == []


@pytest.mark.parametrize(
    "question, topic",
    [
        ("我的话费还剩多少钱啊", "balance"),
        ("出国去日本玩手机要怎么开漫游", "roaming"),
        ("携号转网需要满足什么条件", "number_portability"),
        ("营业厅周末几点开门", "opening_hours"),
        ("服务密码忘了怎么重置", "password_reset"),
        ("宽带坏了一般多久能修好", "broadband_repair"),
    ],
)
def test_consultations_get_the_faq_answer(stack, question, topic):
    replies = stack.say(new_sender(), question)
    answers = {r["text"] for r in FAQ[f"utter_consult/{topic}"]}
    assert any(r.get("text") in answers for r in replies), replies


def test_status_lookup_is_limited_to_own_tickets(stack):
    alice, mallory = new_sender(), new_sender()
    number = file_complaint(stack, alice, "为什么又扣我钱，我这个月根本没用那么多流量")
    status = stack.texts(stack.say(alice, "我的投诉处理得怎么样了"))
    assert number in status and "计费中心" in status and "已受理" in status
    status = stack.texts(stack.say(alice, f"查一下工单 {number}"))
    assert number in status and "处理完成" in status
    other = stack.texts(stack.say(mallory, f"查一下工单 {number}"))
    assert "没有找到" in other and "计费中心" not in other


def test_customer_adds_information_to_the_open_ticket(stack):
    sender = new_sender()
    number = file_complaint(stack, sender, "家里的光猫一直亮红灯，上不了网")
    reply = stack.texts(stack.say(sender, "补充一下：光猫是去年你们上门装的那台"))
    assert number in reply and "补充" in reply
    [ticket] = tickets_of(stack, sender)
    assert ticket.events[-1].kind == "customer_addition" and "去年" in ticket.events[-1].detail


def test_asking_for_a_human_is_registered_on_the_ticket(stack):
    sender = new_sender()
    number = file_complaint(stack, sender, "宽带装机约好昨天上门，师傅一直没来")
    reply = stack.texts(stack.say(sender, "转人工"))
    assert "人工" in reply and number in reply
    [ticket] = tickets_of(stack, sender)
    assert ticket.human_requested_at is not None


def test_asking_for_a_human_without_ticket_asks_for_a_number(stack):
    sender = new_sender()
    assert "手机号" in stack.texts(stack.say(sender, "我要找人工客服"))
    reply = stack.texts(stack.say(sender, "13700002222"))
    assert "人工" in reply and NUMBER.search(reply)
    [ticket] = tickets_of(stack, sender)
    assert ticket.human_requested_at is not None and ticket.contact_phone == "13700002222"


@pytest.mark.parametrize(
    "text, answer",
    [
        ("", "空消息"),
        ("   ", "空消息"),
        ("😡😡😡", "换个说法"),
        ("<script>alert('x')</script>", "换个说法"),
        ("'; DROP TABLE tickets; --", "换个说法"),
    ],
)
def test_bad_input_gets_a_clear_answer(stack, text, answer):
    assert answer in stack.texts(stack.say(new_sender(), text))


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 400),
        (b'["a list"]', 400),
        (b'{"sender": "x"}', 400),
        (b'{"sender": "x", "message": {"text": 1}}', 400),
        (b'{"message": "hello"}', 400),
        (b'{"sender": "x", "message": "hi", "metadata": "oops"}', 400),
        ('{"sender": "x", "message": "%s"}' % ("网" * 10_000), 413),
    ],
)
def test_malformed_requests_are_client_errors(stack, body, status):
    r = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == status, r.text
    assert "空消息" not in r.text
    assert "您好" in stack.texts(stack.say(new_sender(), "你好"))  # still serving


def test_clients_cannot_choose_their_channel(stack):
    sender = new_sender()
    r = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "你好", "input_channel": "webchat"},
        timeout=30,
    )
    assert r.status_code == 200
    assert stack.tracker(sender)["latest_input_channel"] == "rest"


def test_restart_keeps_the_conversation_and_the_ticket(trained_model, tmp_path):
    s = Stack(tmp_path, trained_model).start()
    sender = new_sender()
    try:
        assert "手机号" in s.texts(s.say(sender, "手机在家里一点信号都没有，打电话都打不出去"))
        s.stop()
        s.start()
        # the form is still waiting for the phone number
        assert "请确认" in s.texts(s.say(sender, "13812345678"))
        number = NUMBER.search(s.texts(s.say(sender, "确认"))).group(0)
        s.stop()
        s.start()
        assert number in s.texts(s.say(sender, "我的工单处理到哪一步了"))
    finally:
        s.stop()
