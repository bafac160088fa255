"""The console API for a shift: the queue by kind with paging and filters, what a session tells the
agent about unanswered messages, the agent's status (在线 / 示忙 / 小休) in routing, the hand-back at
logout, and an escalation decision reaching the requesting agent's chat."""

from __future__ import annotations

import uuid

import pytest

from bot.staff import Role

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return uuid.uuid4().hex


def test_queue_kinds_paging_and_filters(stack, console):
    token = console.login(console.account("pager"))
    senders = [new_sender() for _ in range(3)]
    for s in senders:
        stack.say(s, "我要转人工")
    ids = [stack.handoff_session("rest", s) for s in senders]
    page = stack.api("GET", "/queue?kind=live&limit=200", token).json()
    assert set(page) == {"sessions", "total", "kind", "limit", "offset"}
    assert page["kind"] == "live" and page["total"] >= 3
    assert all(s["status"] == "waiting" for s in page["sessions"])
    live = [s["id"] for s in page["sessions"] if s["id"] in ids]
    assert live == sorted(ids)  # same deadline: in request order, as the customers were told
    # a page of one, and the next
    first = stack.api("GET", "/queue?kind=live&limit=1", token).json()
    second = stack.api("GET", "/queue?kind=live&limit=1&offset=1", token).json()
    assert len(first["sessions"]) == len(second["sessions"]) == 1 and first["total"] == page["total"]
    assert first["sessions"][0]["id"] != second["sessions"][0]["id"]
    callbacks = stack.api("GET", "/queue?kind=callback&limit=200", token).json()
    assert all(s["status"] == "callback" for s in callbacks["sessions"]) and not set(ids) & {s["id"] for s in callbacks["sessions"]}
    general = stack.api("GET", "/queue?kind=live&severity=urgent&limit=200", token).json()
    assert all(s["severity"] == "urgent" for s in general["sessions"])
    assert stack.api("GET", "/queue?kind=live&overdue=1", token).json()["total"] < page["total"] + 1
    for bad in ("kind=nope", "limit=0", "limit=abc", "offset=-1", "severity=huge"):
        assert stack.api("GET", f"/queue?{bad}", token).status_code == 400, bad
    for s in ids:
        stack.api("POST", f"/sessions/{s}/accept", token)
        stack.api("POST", f"/sessions/{s}/close", token)


def test_session_tells_the_last_message_and_what_is_unanswered(stack, console):
    agent = console.account("reader", "小读")
    token = console.login(agent)
    sender = new_sender()
    stack.say(sender, "我要转人工")
    session_id = stack.handoff_session("rest", sender)
    assert stack.api("POST", f"/sessions/{session_id}/accept", token).status_code == 200
    [mine] = [s for s in stack.api("GET", "/sessions?scope=mine", token).json()["sessions"] if s["id"] == session_id]
    assert mine["last_message"]["sender"] == "system" and mine["unanswered"] == 0 and mine["waiting_reply_since"] is None
    stack.say(sender, "喂？人呢？")
    stack.say(sender, "我问你几点来")
    [mine] = [s for s in stack.api("GET", "/sessions?scope=mine", token).json()["sessions"] if s["id"] == session_id]
    assert mine["unanswered"] == 2 and mine["waiting_reply_since"]
    assert mine["last_message"]["sender"] == "customer" and mine["last_message"]["text"] == "我问你几点来"
    assert mine["last_message"]["at"] and mine["escalation"] is None
    stack.api("POST", f"/sessions/{session_id}/messages", token, json={"text": "马上为您查询"})
    [mine] = [s for s in stack.api("GET", "/sessions?scope=mine", token).json()["sessions"] if s["id"] == session_id]
    assert mine["unanswered"] == 0 and mine["last_message"]["sender"] == "agent"
    # an escalation request and its decision: on the session, and a feed event of the session
    assert stack.api("POST", f"/sessions/{session_id}/escalate", token, json={"reason": "客户要求"}).status_code in (200, 409)
    detail = stack.api("GET", f"/sessions/{session_id}", token).json()["session"]
    print("escalation decided:", bool(detail["ticket_numbers"]))
    if detail["ticket_numbers"]:
        boss = console.login(console.account("decider", "主管", Role.SUPERVISOR))
        cursor = stack.api("GET", "/events?after=0", token).json()["cursor"]
        assert detail["escalation"] == "pending"
        [pending] = [e for e in stack.api("GET", "/escalations", boss).json()["escalations"] if e["ticket_number"] in detail["ticket_numbers"]]
        assert stack.api("POST", f"/escalations/{pending['id']}/decline", boss, json={"reason": "暂不升级"}).status_code == 200
        events = stack.api("GET", f"/events?after={cursor}&timeout=5", token).json()["events"]
        assert any(e["kind"] == "escalation_declined" and e["session_id"] == session_id for e in events), events
        assert stack.api("GET", f"/sessions/{session_id}", token).json()["session"]["escalation"] == "declined"
    stack.api("POST", f"/sessions/{session_id}/close", token)


def test_busy_agent_gets_no_new_chat_and_is_shown_so(stack, console):
    owner, other = console.account("busyowner", "老忙"), console.account("busyother", "小闲")
    t_owner, t_other = console.login(owner), console.login(other)
    sender = new_sender()
    stack.say(sender, "我要转人工")
    first = stack.handoff_session("rest", sender)
    assert stack.api("POST", f"/sessions/{first}/accept", t_owner).status_code == 200
    assert stack.api("POST", f"/sessions/{first}/close", t_owner).status_code == 200
    stack.say(sender, "好的")

    cursor = stack.api("GET", "/events?after=0&timeout=0", t_other).json()["cursor"]
    r = stack.api("POST", "/me/status", t_owner, json={"status": "busy"})
    # colleagues' consoles hear of it on the feed (their pickers and the supervisors' panel follow)
    kinds = [e["kind"] for e in stack.api("GET", f"/events?after={cursor}&timeout=5", t_other).json()["events"]]
    assert "agent_status" in kinds, kinds
    assert r.status_code == 200 and r.json()["status"] == "busy" and r.json()["status_label"] == "示忙"
    assert r.json()["online"] is True and r.json()["available"] is False
    assert stack.api("POST", "/me/status", t_owner, json={"status": "asleep"}).status_code == 400
    [shown] = [a for a in stack.api("GET", "/agents", t_other).json()["agents"] if a["username"] == owner]
    assert shown["status"] == "busy" and shown["online"] and not shown["available"]
    assert stack.api("GET", "/me", t_owner).json()["status"] == "busy"

    # the responsible agent is busy: not routed to them, the customer waits (another agent is available)
    reply = stack.texts(stack.say(sender, "转人工"))
    assert "排在第" in reply and "老忙" not in reply, reply
    again = stack.handoff_session("rest", sender)
    assert stack.api("GET", f"/sessions/{again}", t_owner).json()["session"]["status"] == "waiting"
    assert stack.api("POST", f"/sessions/{again}/accept", t_other).status_code == 200
    stack.api("POST", f"/sessions/{again}/close", t_other)
    stack.say(sender, "好的")

    # everyone busy or on a break: nobody counts as available, the request becomes a call-back
    assert stack.api("POST", "/me/status", t_other, json={"status": "break"}).status_code == 200
    late = new_sender()
    stack.say(late, "转人工")
    reply = stack.texts(stack.say(late, "13700004444"))
    assert "没有人工客服在线" in reply, reply
    late_id = stack.handoff_session("rest", late)
    callbacks = stack.api("GET", "/queue?kind=callback&limit=200", t_other).json()["sessions"]
    assert [s["status"] for s in callbacks if s["id"] == late_id] == ["callback"]
    for t in (t_owner, t_other):
        assert stack.api("POST", "/me/status", t, json={"status": "online"}).json()["available"] is True
    stack.api("POST", f"/sessions/{late_id}/accept", t_other)
    stack.api("POST", f"/sessions/{late_id}/close", t_other)


def test_logout_with_hand_back_requeues_at_once_and_tells_the_customer(stack, console):
    leaver, stayer = console.account("leaver", "小走"), console.account("stayer", "小留")
    t_leaver, t_stayer = console.login(leaver), console.login(stayer)
    second_tab = console.login(leaver)  # another login of the same agent stays open
    sender = new_sender()
    stack.say(sender, "我要转人工")
    session_id = stack.handoff_session("rest", sender)
    assert stack.api("POST", f"/sessions/{session_id}/accept", t_leaver).status_code == 200
    stack.say(sender, "你好")
    r = stack.api("POST", "/logout", t_leaver, json={"hand_back": True})
    assert r.status_code == 200 and r.json()["handed_back"] == [session_id]
    [detail] = [s for s in stack.api("GET", "/queue?kind=live&limit=200", t_stayer).json()["sessions"] if s["id"] == session_id]
    assert detail["status"] == "waiting" and detail["agent"] is None and detail["owner"] == leaver
    [shown] = [a for a in stack.api("GET", "/agents", t_stayer).json()["agents"] if a["username"] == leaver]
    assert not shown["online"]
    assert "重新排队" in stack.texts(stack.say(sender, "还在吗？"))
    assert stack.api("GET", "/me", second_tab).status_code == 200  # the other login itself stays valid
    stack.api("POST", f"/sessions/{session_id}/accept", t_stayer)
    stack.api("POST", f"/sessions/{session_id}/close", t_stayer)
    # a plain logout still answers 204
    assert stack.api("POST", "/logout", second_tab).status_code == 204
