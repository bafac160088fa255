"""The dialogue failures customers met (issue 13), each driven through the real REST channel and model.

Every test names the failure it guards against; each would go red if that failure came back.
"""

from __future__ import annotations

import random
import uuid
from typing import Dict, List

import pytest
import sqlalchemy as sa

from bot.storage.database import Database
from bot.tickets import Customer, TicketService
from channels.reply_guard import NOTHING_SENT, is_not_understood
from tests.e2e.servers import Stack

pytestmark = pytest.mark.e2e


class Chat:
    """One customer talking to the stack; every reply is checked against the invariants on the way."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = uuid.uuid4().hex
        self.replies: List[List[Dict]] = []
        # Numbers of their own: a phone and category seen before would make a complaint a repeat
        # (major, straight to a person) and change what later tests see.
        self.phone = "137" + "".join(random.choice("0123456789") for _ in range(8))
        self.other_phone = "139" + "".join(random.choice("0123456789") for _ in range(8))

    def say(self, text: str) -> str:
        reply = self.stack.say(self.sender, text)
        texts = [m.get("text") or "" for m in reply]
        assert reply, f"empty reply to {text!r}"
        assert NOTHING_SENT not in texts, f"the reply guard had to answer {text!r}: a dialogue defect"
        assert len(texts) == len(set(texts)), f"the same text twice in one reply: {texts}"
        assert sum(is_not_understood(t) for t in texts) <= 1, texts
        self.replies.append(reply)
        return "\n".join(t for t in texts if "个人信息保护提示" not in t)

    def file(self, complaint: str):
        """A complaint from its first message to the ticket: the customer's own number, then 确认."""
        self.say(complaint)
        self.say(self.phone)
        assert "登记成功" in self.say("确认")
        [ticket] = [t for t in self.tickets() if complaint in t.description]
        return ticket

    def tickets(self):
        db = Database(self.stack.ticket_db)
        try:
            return TicketService(db).list_for(Customer("rest", self.sender))
        finally:
            db.dispose()


def masked(phone: str) -> str:
    """A phone number as the assistant shows it."""
    return f"{phone[:3]}****{phone[-4:]}"


def test_a_second_angrier_request_for_a_person_is_put_through_not_misunderstood(chat):
    chat.say("宽带断了三天了")
    asked = chat.say("转人工")
    assert "手机号码" in asked and "不留了" in asked  # nobody online: a call-back number is asked for
    answer = chat.say("我说了要人工！！！听不懂吗！！")
    assert "没太明白" not in answer
    assert "转人工请求已记录" in answer and "在这里回复您" in answer
    [ticket] = [t for t in chat.tickets() if t.human_requested_at is not None]
    assert ticket.contact_phone is None


@pytest.mark.parametrize("odd", ["嗯", "谢谢", "？", "asdfgh", "/foo", "好的", "哈哈哈", "😂"])
def test_every_message_inside_the_complaint_form_gets_an_answer(chat, odd):
    chat.say("我要投诉")
    chat.say(odd)  # at the description step
    chat.say("家里宽带从昨天晚上开始一直断网")
    chat.say(odd)  # at the phone step
    confirm = chat.say(chat.phone)
    assert "请确认" in confirm
    answer = chat.say(odd)  # at the confirmation step: a yes files the complaint, anything else does not
    filed = "登记成功" in answer
    assert filed == (odd in ("嗯", "好的")), answer
    assert len(chat.tickets()) == int(filed)


def test_a_correction_at_the_confirmation_corrects_and_does_not_cancel(chat):
    chat.say("家里宽带从昨天晚上开始一直断网")
    assert "请确认" in chat.say(chat.phone)
    p = chat.other_phone
    corrected = chat.say(f"不对不对 号码打错了 是{p[:3]} {p[3:7]} {p[7:]}")
    assert "取消" not in corrected.split("请确认")[0]
    assert f"{p[:3]}****{p[-4:]}" in corrected and "请确认" in corrected
    assert "登记成功" in chat.say("对 提交")
    [ticket] = chat.tickets()
    assert ticket.contact_phone == p


def test_more_description_while_asked_for_the_phone_is_kept(chat):
    chat.say("我要投诉")
    assert "手机号" in chat.say("营业厅的人说话很冲，问两句就不耐烦")
    added = chat.say("还有这个月话费莫名其妙多扣了80块，我根本没订过什么会员")
    assert "补充到问题描述" in added and "手机号" in added
    chat.say(chat.phone)
    assert "登记成功" in chat.say("确认")
    [ticket] = chat.tickets()
    assert "不耐烦" in ticket.description and "多扣了80块" in ticket.description


def test_a_plan_change_question_is_answered_not_filed(chat):
    answer = chat.say("我想把套餐换成便宜一点的，要怎么弄")
    assert "套餐" in answer and "手机号" not in answer
    assert not chat.tickets()


def test_a_question_inside_the_complaint_form_is_answered_and_the_form_resumes(chat):
    chat.say("家里宽带从昨天晚上开始一直断网")
    resumed = chat.say("对了 宽带报修一般多久能上门")
    assert "上门" in resumed and "手机号" in resumed
    assert "请确认" in chat.say(chat.phone)


def test_never_the_same_text_twice_in_one_reply(chat, stack):
    chat.file("家里宽带从昨天晚上开始一直断网")
    asked = chat.say("补充一下")
    assert "补充的内容" in asked
    again = chat.say("嗯")
    assert again.count("请直接发送您要补充的内容") == 1


def test_nonsense_never_records_a_personal_data_request(chat, stack):
    chat.say("我想" * 22 + "啊")
    chat.say("我想我想我想查看")
    db = Database(stack.ticket_db)
    try:
        with db.engine.connect() as connection:
            count = connection.execute(
                sa.text("select count(*) from privacy_requests where channel_user_id = :u"), {"u": chat.sender}
            ).scalar()
    finally:
        db.dispose()
    assert count == 0


def test_a_personal_data_request_is_recorded_only_after_an_explicit_yes(chat):
    asked = chat.say("删除我的个人信息")
    assert "对吗" in asked and "已记录" not in asked
    assert "已取消" in chat.say("不用了")
    asked = chat.say("帮我把我的个人信息都删掉")
    assert "对吗" in asked and "已记录" not in asked
    assert "已记录" in chat.say("确认申请")


def test_cancelling_a_complaint_is_confirmed_first(chat):
    chat.say("这个月话费多扣了50块，我没订过任何业务")
    chat.say(chat.phone)
    asked = chat.say("算了不投诉了")
    assert "确定不登记" in asked
    assert "我们继续" in chat.say("继续登记")
    chat.say("算了")
    assert "已取消" in chat.say("确定取消")
    assert not chat.tickets()


def test_off_topic_gets_a_polite_answer_never_the_same_not_understood_twice(chat):
    first = chat.say("帮我订一张明天去上海的火车票")
    assert "帮不上" in first and "没太明白" not in first
    second = chat.say("附近有什么好吃的餐馆推荐一下")
    assert "人工" in second and second != first


def test_not_understood_twice_offers_a_person(chat):
    first = chat.say("啵啵啵咕噜咕噜")
    second = chat.say("咕噜咕噜啵啵")
    assert not ("换个说法" in first and "换个说法" in second)  # never "please rephrase" twice in a row
    assert "人工" in second


def test_an_angry_complaint_mentioning_the_hotline_is_a_complaint_not_an_escalation(chat):
    answer = chat.say("我要投诉！宽带断了五天，打10000打了十几次，每次都说已经派单，说好48小时上门，现在都120个小时了")
    assert "手机号" in answer and "转人工" not in answer and "排在第" not in answer


def test_a_progress_question_about_a_refund_is_not_a_complaint(chat):
    answer = chat.say("我上周申请的退款审核到哪一步了")
    assert "手机号" not in answer and ("工单" in answer or "办理记录" in answer)
