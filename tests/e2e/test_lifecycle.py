"""The ticket's life after filing, through the real servers: escalation with a supervisor, the result
and the survey reaching web-chat and Telegram customers, and a low score reopening the ticket."""

from __future__ import annotations

import random
import re
import time
import uuid

import pytest
import socketio

from bot.staff import Role
from bot.storage.database import Database
from bot.tickets import Customer, Status, TicketService
from tests.e2e.conftest import TELEGRAM_SECRET
from tests.fake_telegram import button_update, text_update
from tests.polling import wait_for

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")


def ticket(stack, customer: Customer, number: str):
    db = Database(stack.ticket_db)
    try:
        return TicketService(db).get(customer, number)
    finally:
        db.dispose()


def until(condition, wait: float = 20.0):
    return wait_for(condition, wait, every=0.1)


def test_escalation_end_to_end_with_a_supervisor(stack, console):
    boss = console.login(console.account("esc-boss", "钱主管", Role.SUPERVISOR))
    sender = uuid.uuid4().hex
    customer = Customer("rest", sender)
    stack.say(sender, "这个月话费多扣了80块，我要投诉")
    stack.say(sender, f"137{random.randint(10_000_000, 99_999_999)}")  # a first complaint: not a repeat
    number = NUMBER.search(stack.texts(stack.say(sender, "确认"))).group(0)
    reply = stack.texts(stack.say(sender, "我要找你们主管，投诉升级"))
    assert "人工" in reply or "客服" in reply
    assert "已提交升级申请" in reply  # told in the same turn, not with the next message
    [pending] = [e for e in stack.api("GET", "/escalations", boss).json()["escalations"] if e["ticket_number"] == number]
    assert pending["source"] == "customer" and "主管" in pending["reason"]
    agent = console.login(console.account("esc-agent", "坐席"))
    assert stack.api("GET", "/escalations", agent).status_code == 403
    r = stack.api("POST", f"/escalations/{pending['id']}/accept", boss, json={"handler": "nobody", "reason": "x"})
    assert r.status_code == 400
    boss_name = [a["username"] for a in stack.api("GET", "/agents", boss).json()["agents"] if a["display_name"] == "钱主管"][0]
    r = stack.api("POST", f"/escalations/{pending['id']}/accept", boss, json={"handler": boss_name, "reason": "金额争议，主管跟进"})
    assert r.status_code == 200 and r.json()["escalation"]["status"] == "accepted"
    assert stack.api("POST", f"/escalations/{pending['id']}/decline", boss, json={"reason": "晚了"}).status_code == 409
    after = ticket(stack, customer, number)
    assert after.escalation_level == 1 and after.handler == boss_name and after.severity.value in ("major", "urgent")
    told = stack.texts(stack.say(sender, "怎么样了"))  # REST hands over what is waiting
    assert "已升级处理，由钱主管负责跟进" in told and "已提交升级申请" not in told


def test_result_and_survey_reach_a_web_chat_customer_who_comes_back(stack):
    client = socketio.Client()
    confirmed, messages = [], []
    client.on("session_confirm", confirmed.append)
    client.on("bot_uttered", messages.append)
    client.connect(stack.url, transports=["polling"], socketio_path="/socket.io")
    try:
        client.emit("session_request", {"session_id": None})
        sid = until(lambda: confirmed)[0]
        for text in ("我要投诉营业厅的营业员，办业务时态度很差", "13812345678", "确认"):
            before = len(messages)
            client.emit("user_uttered", {"message": text, "session_id": sid})
            until(lambda before=before: len(messages) > before)
            time.sleep(0.5)
        found = [NUMBER.search(m.get("text", "")) for m in messages]
        assert any(found), [m.get("text") for m in messages]
        number = next(f.group(0) for f in found if f)
    finally:
        client.eio.disconnect(abort=True)
    # The customer has left; the ticket is resolved meanwhile.
    db = Database(stack.ticket_db)
    try:
        TicketService(db).transition(number, Status.RESOLVED, "staff", "已对营业员批评教育并致歉")
    finally:
        db.dispose()
    # They come back: the result and the survey are waiting for them.
    back = socketio.Client()
    replayed = []
    back.on("bot_uttered", replayed.append)
    back.connect(stack.url, transports=["polling"], socketio_path="/socket.io")
    try:
        # As the page does (chat.js): it names the last message it showed, so what was pushed to
        # the first connection after it died (the server notices a dropped polling client only at
        # its ping timeout) is replayed.
        back.emit("session_request", {"session_id": sid, "last_message_id": 0})
        # A message pushed live and replayed as well comes twice with its id; the page shows it once
        # (chat.js `seen`), and so does this reading.
        def shown() -> list:
            ids: set = set()
            out = []
            for m in replayed:
                mid = m.get("message_id")
                if isinstance(mid, int) and mid in ids:
                    continue
                ids.add(mid)
                out.append(m)
            return out

        until(lambda: len(shown()) >= 2)
        result, survey = shown()[:2]
        assert number in result["text"] and "批评教育" in result["text"], replayed
        assert [q["payload"] for q in survey.get("quick_replies") or []][:1] == ["/rate_5"], replayed
        back.emit("user_uttered", {"message": "/rate_5", "session_id": sid})
        until(lambda: any("感谢您的评价" in m.get("text", "") for m in replayed))
    finally:
        back.eio.disconnect(abort=True)
    assert ticket(stack, Customer("webchat", sid), number).status is Status.CLOSED


def test_result_and_survey_on_telegram_and_a_low_score_reopens(stack, fake_telegram):
    user = random.randint(10_000_000, 2_000_000_000)
    customer = Customer("telegram", str(user))

    def say(update):
        assert stack.telegram(update, TELEGRAM_SECRET).status_code == 200

    say(text_update(user, "家里宽带断网两天了"))
    say(text_update(user, "13812345678"))
    say(button_update(user, "/affirm"))
    number = NUMBER.search(fake_telegram.texts(user)[-1] + "".join(fake_telegram.texts(user))).group(0)
    db = Database(stack.ticket_db)
    try:
        TicketService(db).assign(number, "tg-agent", "tg-agent")
        TicketService(db).transition(number, Status.RESOLVED, "tg-agent", "已更换光猫")
    finally:
        db.dispose()
    survey = until(lambda: [c for c in fake_telegram.recorded("sendMessage", user) if "打分" in c.params["text"]])[0]
    assert any("已更换光猫" in t for t in fake_telegram.texts(user))
    buttons = [b["callback_data"] for row in survey.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["/rate_5", "/rate_4", "/rate_3", "/rate_2", "/rate_1", "/not_solved"]
    say(button_update(user, "/rate_1"))
    assert "重新处理" in fake_telegram.texts(user)[-1]
    after = ticket(stack, customer, number)
    assert after.status is Status.REOPENED and after.responsible == "tg-agent" and after.rating == 1
