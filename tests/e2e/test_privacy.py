"""Personal data end to end: the first-contact notice, a verified deletion request in chat, the
supervisor carrying it out in the console, the customer told, the data gone, the access log."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from bot.storage.conversations import ConversationLog, events
from bot.storage.database import Database
from bot.storage.models import TicketRow
from bot.staff import Role
from tests.e2e.test_conversations import file_complaint

pytestmark = pytest.mark.e2e

PHONE = "13812345678"


def test_first_contact_gets_the_notice_once_with_a_working_link(stack):
    sender = uuid.uuid4().hex
    first = stack.texts(stack.say(sender, "你好"))
    assert "个人信息保护提示" in first and "/chat/privacy" in first
    assert "个人信息保护提示" not in stack.texts(stack.say(sender, "你好"))
    page = requests.get(f"{stack.url}/chat/privacy", timeout=10)
    assert page.status_code == 200 and "个人信息保护说明" in page.text and "180" in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_verified_deletion_request_is_carried_out_by_a_supervisor(stack, console, backend):
    sender = uuid.uuid4().hex
    number = file_complaint(stack, sender, "家里宽带这两天老是断网，晚上根本没法用", PHONE)

    confirm = stack.texts(stack.say(sender, "删除我的个人信息"))
    assert "对吗" in confirm and "已记录" not in confirm, confirm  # nothing recorded before an explicit yes
    asked = stack.texts(stack.say(sender, "确认申请"))
    assert "登记的联系电话" in asked, asked
    wrong = stack.texts(stack.say(sender, "13900000000"))
    assert "不一致" in wrong and "2次" in wrong, wrong
    recorded = stack.texts(stack.say(sender, "138 1234 5678"))
    assert "已记录您的删除个人信息申请" in recorded, recorded

    boss = console.account("boss", "主管", Role.SUPERVISOR)
    agent = console.account("agent")
    token, agent_token = console.login(boss), console.login(agent)
    assert stack.api("GET", "/privacy-requests", agent_token).status_code == 403
    pending = stack.api("GET", "/privacy-requests?status=pending", token).json()["requests"]
    mine = [r for r in pending if r["kind"] == "delete" and r["verified_by"] == "phone"]
    assert mine and sender not in json.dumps(pending)  # the console shows masked ids only
    request_id = mine[0]["id"]
    assert stack.api("POST", f"/privacy-requests/{request_id}/execute", agent_token, json={}).status_code == 403

    done = stack.api("POST", f"/privacy-requests/{request_id}/execute", token, json={"note": "客户在线申请"})
    assert done.status_code == 200, done.text
    assert done.json()["request"]["status"] == "done"
    assert done.json()["request"]["result"]["tickets"] == 1
    assert done.json()["request"]["result"]["conversation_events"] > 0
    assert stack.api("POST", f"/privacy-requests/{request_id}/execute", token, json={}).status_code == 409

    # The REST customer gets the confirmation with their next message.
    assert "已处理完成" in stack.texts(stack.say(sender, "好的"))

    db = Database(stack.ticket_db)
    with db.transaction() as session:
        row = session.execute(sa.select(TicketRow).where(TicketRow.number == number)).scalar_one()
        assert row.contact_phone is None and row.channel_user_id.startswith("anon-") and row.category == "network"
    db.dispose()
    # The bot's conversation log kept nothing from before the deletion.
    log = ConversationLog(stack.tracker_db)
    with log.engine.connect() as connection:
        texts = connection.execute(sa.select(events.c.data).where(events.c.sender_id == sender)).scalars().all()
    log.dispose()
    assert not any("宽带这两天" in t or PHONE in t for t in texts)
    # The backend heard of it, with no identity in the event.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        told = [e for e in backend.received() if e["ticket"]["number"] == number and e["kind"] == "anonymised"]
        if told:
            break
        time.sleep(0.1)
    assert told and told[0]["ticket"]["contact_phone"] is None and told[0]["ticket"]["customer_id"].startswith("anon-")

    entries = stack.api("GET", f"/access-log?actor={boss}", token).json()["entries"]
    assert "execute_privacy_request" in [e["action"] for e in entries]
    assert stack.api("GET", "/access-log", agent_token).status_code == 403


def test_without_a_phone_on_file_the_channel_account_verifies(stack, console):
    sender = uuid.uuid4().hex
    asked = stack.texts(stack.say(sender, "我想看看你们存了我哪些个人信息"))
    assert "对吗" in asked and "已记录" not in asked, asked
    replies = stack.texts(stack.say(sender, "是的"))
    assert "已记录您的查看个人信息申请" in replies, replies
    boss = console.account("boss2", "主管", Role.SUPERVISOR)
    token = console.login(boss)
    pending = stack.api("GET", "/privacy-requests?status=pending", token).json()["requests"]
    request_id = next(r["id"] for r in pending if r["kind"] == "access" and r["verified_by"] == "channel")
    assert stack.api("POST", f"/privacy-requests/{request_id}/execute", token, json={}).status_code == 200
    summary = stack.texts(stack.say(sender, "收到"))
    assert "您申请查看的个人信息如下" in summary and "工单：无" in summary
