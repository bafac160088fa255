"""The console API of part B against the real stack: call-backs handled by phone (reveal audited,
outcomes in the history), the ticket search and its permission rule, corrections written to the
history, Chinese history lines and Chinese error messages."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.staff import Role
from bot.storage.database import Database
from bot.tickets import Customer, TicketService

pytestmark = pytest.mark.e2e

LATIN = re.compile(r"[A-Za-z_]")


def ticket_of(stack, sender):
    db = Database(stack.ticket_db)
    try:
        return TicketService(db).list_for(Customer("rest", sender))[0]
    finally:
        db.dispose()


def access_actions(stack, token, actor):
    entries = stack.api("GET", f"/access-log?actor={actor}", token).json()["entries"]
    return [(e["action"], e["action_label"]) for e in entries]


def test_call_backs_by_phone_reveal_is_audited_and_outcomes_go_into_the_history(stack, console):
    wang, li = console.account("cbwang", "小王"), console.account("cbli", "小李")
    boss = console.account("cbboss", "钱主管", Role.SUPERVISOR)
    sender = uuid.uuid4().hex
    assert "手机号" in stack.texts(stack.say(sender, "转人工"))  # nobody is online: a call-back
    assert "没有人工客服在线" in stack.texts(stack.say(sender, "13700004444"))
    session_id = stack.handoff_session("rest", sender)
    t_wang, t_li, t_boss = console.login(wang), console.login(li), console.login(boss)

    r = stack.api("POST", f"/sessions/{session_id}/callback/phone", t_wang)
    assert r.status_code == 200 and r.json() == {"phone": "13700004444"}
    r = stack.api("POST", f"/sessions/{session_id}/callback/phone", t_li)
    assert r.status_code == 403  # 小王 is handling it
    assert ("reveal_phone", "显示完整号码") in access_actions(stack, t_boss, wang)
    assert ("reveal_phone", "显示完整号码") not in access_actions(stack, t_boss, li)

    r = stack.api("POST", f"/sessions/{session_id}/callback/outcome", t_wang, json={"outcome": "no_answer", "note": "关机"})
    assert r.status_code == 200
    [queued] = [s for s in stack.api("GET", "/queue", t_li).json()["sessions"] if s["id"] == session_id]
    assert queued["status"] == "callback"  # still waiting for a call

    r = stack.api("POST", f"/sessions/{session_id}/callback/outcome", t_li, json={"outcome": "retry"})
    assert r.status_code == 400 and r.json()["message"] == "请求有误：请填写再次回电时间"
    later = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    r = stack.api("POST", f"/sessions/{session_id}/callback/outcome", t_li,
                  json={"outcome": "retry", "retry_at": later.isoformat(), "note": "客户说两小时后方便"})
    assert r.status_code == 200
    [queued] = [s for s in stack.api("GET", "/queue", t_li).json()["sessions"] if s["id"] == session_id]
    assert datetime.fromisoformat(queued["callback_due"]) == later

    r = stack.api("POST", f"/sessions/{session_id}/callback/outcome", t_li, json={"outcome": "reached", "note": "已约明早上门"})
    assert r.status_code == 200
    ticket = r.json()["ticket"]
    assert ticket["responsible"] == li and ticket["responsible_name"] == "小李"
    lines = [(e["label"], e["actor_name"], e["text"]) for e in ticket["events"] if e["kind"].startswith("callback_")]
    assert [line[:2] for line in lines[-3:]] == [("回电未接通", "小王"), ("约定再次回电", "小李"), ("已回电联系", "小李")]
    assert "关机" in lines[-3][2] and "已约明早上门" in lines[-1][2]
    assert session_id not in [s["id"] for s in stack.api("GET", "/queue", t_li).json()["sessions"]]
    assert "已接入" not in stack.texts(stack.say(sender, "好的"))  # handled by phone: no "客服已接入"


def test_search_follows_the_permission_rule_and_is_audited(stack, console):
    wang, li = console.account("swang", "小王"), console.account("sli", "小李")
    boss = console.account("sboss", "孙主管", Role.SUPERVISOR)
    t_wang, t_li, t_boss = console.login(wang), console.login(li), console.login(boss)
    sender = uuid.uuid4().hex
    stack.say(sender, "帮我转人工")
    session_id = stack.handoff_session("rest", sender)
    assert stack.api("POST", f"/sessions/{session_id}/accept", t_wang).status_code == 200
    number = ticket_of(stack, sender).number
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    r = stack.api("POST", f"/tickets/{number}/corrections", t_wang, json={"field": "contact_phone", "value": phone})
    assert r.status_code == 200

    def found(token, kind, q):
        r = stack.api("GET", "/tickets", token, params={"kind": kind, "q": q})
        assert r.status_code == 200, r.text
        return [t["number"] for t in r.json()["tickets"]]

    assert found(t_wang, "number", number.lower()) == [number]
    # by description: an agent finds only the tickets they may see (this new agent: this one ticket)
    assert found(t_wang, "text", "转人工") == [number]
    assert found(t_li, "number", number) == [] and found(t_li, "text", "转人工") == []  # never talked to this customer
    assert number in found(t_boss, "text", "转人工") or len(found(t_boss, "text", "转人工")) == 50
    r = stack.api("GET", "/tickets", t_wang, params={"kind": "phone", "q": phone})
    assert r.status_code == 403
    assert found(t_boss, "phone", phone) == [number]
    assert stack.api("GET", f"/tickets/{number}", t_li).status_code == 404
    assert stack.api("GET", f"/tickets/{number}", t_wang).status_code == 200
    actions = [a for a, _ in access_actions(stack, t_boss, wang)]
    assert "search_tickets" in actions and "view_ticket" in actions
    targets = [e["target"] for e in stack.api("GET", f"/access-log?actor={boss}", t_boss).json()["entries"]]
    assert phone not in " ".join(targets)  # searched phones are masked in the log


def test_corrections_are_in_the_history_in_chinese(stack, console):
    wang = console.account("crwang", "小吴")
    t_wang = console.login(wang)
    sender = uuid.uuid4().hex
    stack.say(sender, "帮我转人工")
    session_id = stack.handoff_session("rest", sender)
    assert stack.api("POST", f"/sessions/{session_id}/accept", t_wang).status_code == 200
    number = ticket_of(stack, sender).number
    before = stack.api("GET", f"/tickets/{number}", t_wang).json()["ticket"]
    assert before["contact_phone"] == "未提供" and before["has_contact_phone"] is False

    r = stack.api("POST", f"/tickets/{number}/corrections", t_wang, json={"field": "severity", "value": "major"})
    assert r.status_code == 400 and r.json()["message"] == "请求有误：请填写原因"
    r = stack.api("POST", f"/tickets/{number}/corrections", t_wang,
                  json={"field": "severity", "value": "major", "reason": "客户一周内第三次来电"})
    assert r.status_code == 200 and r.json()["ticket"]["severity"] == "major"
    r = stack.api("POST", f"/tickets/{number}/corrections", t_wang,
                  json={"field": "category", "value": "network", "reason": "实为宽带断网"})
    ticket = r.json()["ticket"]
    assert r.status_code == 200 and ticket["category"] == "network" and ticket["department_label"] == "网络运维部"
    r = stack.api("POST", f"/tickets/{number}/corrections", t_wang, json={"field": "contact_phone", "value": "0571-8888 6666"})
    ticket = r.json()["ticket"]
    assert r.status_code == 200 and ticket["contact_phone"] == "057****6666"

    lines = {e["kind"]: e for e in ticket["events"]}
    assert lines["severity_changed"]["text"] == "一般 → 重大（客户一周内第三次来电）"
    assert lines["severity_changed"]["actor_name"] == "小吴" and lines["severity_changed"]["actor"] == wang
    assert lines["category_changed"]["text"].startswith("类别：其他投诉 → 服务质量投诉（网络），处理部门：网络运维部")
    assert lines["contact_phone_changed"]["text"] == "未提供 → 057****6666"
    # every line has a Chinese label and a Chinese rendering; the raw codes stay in kind/detail
    assert all(not LATIN.search(e["label"]) for e in ticket["events"])
    assert any(e["kind"] == "status_changed" and e["text"] == "新建 → 已指派" for e in ticket["events"])

    r = stack.api("POST", f"/sessions/{session_id}/notes", t_wang, json={})
    assert r.status_code == 400 and r.json()["message"] == "请求有误：请填写内容"
    r = stack.api("POST", f"/tickets/{number}/resolve", t_wang, json={"note": "内部：客户不满意装维速度"})
    assert r.status_code == 200
    got = stack.texts(stack.say(sender, "好的"))
    assert f"您的工单 {number} 已处理完成" in got and "不满意装维" not in got
