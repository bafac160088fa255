"""The agent API against the real Rasa and action servers: handoff, first-contact responsibility, security."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.staff import Role, StaffService
from bot.storage.database import Database
from bot.tickets import Customer, TicketService
from channels.console import ROUTES_DOC, AgentConsoleInput, routes
from channels.hub import WAITING_RECEIPT

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return uuid.uuid4().hex


def session_id_of(stack, sender: str) -> int:
    return stack.handoff_session("rest", sender)


def tickets_of(stack, sender: str):
    db = Database(stack.ticket_db)
    try:
        return TicketService(db).list_for(Customer("rest", sender))
    finally:
        db.dispose()


def test_openapi_documents_exactly_the_routes_served():
    doc = json.loads(ROUTES_DOC.read_text(encoding="utf-8"))
    documented = {
        f"{method.upper()} /api{path}" for path, item in doc["paths"].items() for method in item if method != "parameters"
    }
    # Sanic's <session_id:int> is the document's {id}; <number> is {number}.
    served = {
        re.sub(r"<(\w+?)(?::\w+)?>", lambda m: "{id}" if m.group(1).endswith("_id") else "{%s}" % m.group(1), route)
        for route in routes(AgentConsoleInput().blueprint(lambda message: None))
    }
    assert documented == served


def test_endpoints_reject_missing_forged_and_expired_tokens(stack, console):
    assert stack.api("GET", "/queue").status_code == 401
    assert stack.api("GET", "/queue", "forged-token").status_code == 401
    assert stack.api("GET", "/queue", headers={"Authorization": "Basic abc"}).status_code == 401
    username = console.account("expired")
    past = StaffService(console.db, clock=lambda: datetime.now(timezone.utc) - timedelta(hours=13))
    old_token = past.login(username, f"{username}-pw")[0]
    r = stack.api("GET", "/queue", old_token)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    # a customer's REST identity is no key to the console
    assert stack.api("POST", "/sessions/1/accept", json={"sender": "x"}).status_code == 401


def test_bad_requests_get_clear_answers(stack, console):
    token = console.login(console.account("careful"))
    r = requests.post(
        f"{stack.url}/agent/api/login", data="{not json", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid"
    assert stack.api("POST", "/login", json=["a"]).status_code == 400
    # JSON only: a cross-site form or text/plain POST never reaches the password check (issue 14, M4)
    body = '{"username": "careful", "password": "x"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = requests.post(f"{stack.url}/agent/api/login", data=body, headers={"Content-Type": content_type}, timeout=30)
        assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type", (content_type, r.text)
    assert stack.api("GET", "/sessions/999999", token).status_code == 404
    assert stack.api("POST", "/sessions/999999/messages", token, json={"text": "x" * 5001}).status_code == 413
    assert stack.api("POST", "/sessions/999999/messages", token, data=b"x" * 70_000).status_code == 413
    assert stack.api("GET", "/sessions?scope=all", token).status_code == 403  # agents are not supervisors
    assert stack.api("GET", "/events?after=abc", token).status_code == 400
    assert stack.api("GET", "/events?after=1&timeout=nan", token).status_code == 400
    assert stack.api("GET", "/sessions/100000000000000000000", token).status_code == 404
    assert stack.api("POST", "/sessions/100000000000000000000/accept", token).status_code == 404
    assert stack.api("POST", "/login", json={"username": "nobody", "password": "x"}).json()["message"] == "账号或密码错误"


def test_login_is_rate_limited_and_passwords_stay_out_of_logs(stack, console):
    username = console.account("limited")
    for _ in range(5):
        assert stack.api("POST", "/login", json={"username": username, "password": "Guess-12345"}).status_code == 401
    r = stack.api("POST", "/login", json={"username": username, "password": f"{username}-pw"})
    assert r.status_code == 429 and r.json()["retry_after"] > 0
    logs = stack.logs(tail=10**7)
    assert "Guess-12345" not in logs and f"{username}-pw" not in logs


def test_fifty_concurrent_accepts_one_owner(stack, console):
    usernames = [console.account(f"racer{n}", f"坐席{n}") for n in range(50)]
    tokens = [console.login(u) for u in usernames]
    sender = new_sender()
    reply = stack.texts(stack.say(sender, "我要转人工客服"))
    assert "排队" in reply or "排在第" in reply, reply
    session_id = session_id_of(stack, sender)
    barrier = threading.Barrier(50)

    def accept(token):
        barrier.wait()
        return stack.api("POST", f"/sessions/{session_id}/accept", token)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(accept, tokens))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 49, codes
    winner = next(r.json()["session"]["agent"] for r in responses if r.status_code == 200)
    for r in responses:
        if r.status_code == 409:
            assert r.json()["agent"] == winner and "已由" in r.json()["message"]
    [ticket] = tickets_of(stack, sender)
    assert [e.actor for e in ticket.events if e.kind == "assigned"] == [winner]
    assert ticket.responsible == winner


def test_handoff_round_trip_transfer_and_release(stack, console):
    wang, li = console.account("wang", "小王"), console.account("li", "小李")
    t_wang, t_li = console.login(wang), console.login(li)
    sender = new_sender()
    stack.say(sender, "你好")
    reply = stack.texts(stack.say(sender, "帮我转人工"))
    assert "排在第" in reply, reply
    session_id = session_id_of(stack, sender)
    # the bot does not answer while the customer waits (a receipt only); what they write reaches the agent
    assert stack.texts(stack.say(sender, "我家宽带从昨晚开始断网")) == WAITING_RECEIPT
    queued = [s for s in stack.api("GET", "/queue", t_li).json()["sessions"] if s["id"] == session_id]
    assert queued and queued[0]["status"] == "waiting" and queued[0]["waiting_seconds"] >= 0
    assert stack.api("GET", f"/sessions/{session_id}/transcript", t_li).status_code == 403  # nobody holds it yet

    r = stack.api("POST", f"/sessions/{session_id}/accept", t_wang)
    assert r.status_code == 200 and r.json()["session"]["owner"] == wang
    transcript = stack.api("GET", f"/sessions/{session_id}/transcript", t_wang).json()["messages"]
    texts = [m["text"] for m in transcript]
    assert "你好" in texts and "我家宽带从昨晚开始断网" in texts  # bot part and the waiting part
    assert stack.api("POST", f"/sessions/{session_id}/messages", t_li, json={"text": "插话"}).status_code == 403

    r = stack.api("POST", f"/sessions/{session_id}/messages", t_wang, json={"text": "您好，我是小王，马上帮您查"})
    assert r.status_code == 201
    # REST cannot push: the customer's next request carries what the agent wrote, and the bot stays silent
    got = stack.texts(stack.say(sender, "好的谢谢"))
    assert "客服小王已接入" in got and "客服小王：您好，我是小王，马上帮您查" in got

    assert stack.api("POST", f"/sessions/{session_id}/transfer", t_wang, json={"to": "nobody"}).status_code == 400
    r = stack.api("POST", f"/sessions/{session_id}/transfer", t_wang, json={"to": li, "reason": "宽带装维问题转专席"})
    assert r.status_code == 202 and r.json()["session"]["transfer_to"] == li
    assert stack.api("POST", f"/sessions/{session_id}/transfer/accept", t_wang).status_code == 403
    r = stack.api("POST", f"/sessions/{session_id}/transfer/accept", t_li)
    assert r.status_code == 200 and r.json()["session"]["owner"] == li
    detail = stack.api("GET", f"/sessions/{session_id}", t_li).json()
    [ticket] = detail["tickets"]
    assert ticket["responsible"] == li
    moves = [e for e in ticket["events"] if e["kind"] in ("assigned", "transferred")]
    assert [(m["kind"], m["actor"]) for m in moves] == [("assigned", wang), ("transferred", li)]
    assert "宽带装维问题转专席" in moves[-1]["detail"]

    r = stack.api("POST", f"/sessions/{session_id}/release", t_li)
    assert r.status_code == 200 and r.json()["session"]["status"] == "released"
    back = stack.texts(stack.say(sender, "查一下我的话费余额"))
    assert "人工服务已结束" in back and len(back) > len("人工服务已结束")  # the bot answers again
    assert stack.api("POST", f"/sessions/{session_id}/messages", t_li, json={"text": "还在吗"}).status_code == 409


def test_returning_customer_is_routed_to_the_owner_or_waits_marked_with_them(stack, console):
    owner, other = console.account("owner", "老张"), console.account("other", "小赵")
    t_owner, t_other = console.login(owner), console.login(other)
    sender = new_sender()
    stack.say(sender, "我要转人工")
    session_id = session_id_of(stack, sender)
    assert stack.api("POST", f"/sessions/{session_id}/accept", t_owner).status_code == 200
    assert stack.api("POST", f"/sessions/{session_id}/close", t_owner).status_code == 200
    stack.say(sender, "好的")  # picks up the closing message

    # the owner is online: straight to them
    reply = stack.texts(stack.say(sender, "转人工"))
    assert "老张" in reply, reply
    again = session_id_of(stack, sender)
    mine = stack.api("GET", "/sessions?scope=mine", t_owner).json()["sessions"]
    assert [s["agent"] for s in mine if s["id"] == again] == [owner]
    assert stack.api("POST", f"/sessions/{again}/close", t_owner).status_code == 200
    stack.say(sender, "好的")

    # the owner is offline: the session waits, marked with its owner; another agent may answer
    assert stack.api("POST", "/logout", t_owner).status_code == 204
    reply = stack.texts(stack.say(sender, "转人工"))
    assert "排在第" in reply, reply
    third = session_id_of(stack, sender)
    [queued] = [s for s in stack.api("GET", "/queue?kind=live&limit=200", t_other).json()["sessions"] if s["id"] == third]
    assert queued["owner"] == owner and queued["owner_name"] == "老张"
    r = stack.api("POST", f"/sessions/{third}/accept", t_other)
    assert r.status_code == 200 and r.json()["session"]["owner"] == owner and r.json()["session"]["agent"] == other
    [ticket] = tickets_of(stack, sender)
    assert ticket.responsible == owner
    stack.api("POST", f"/sessions/{third}/close", t_other)


def test_nobody_online_keeps_the_request_for_a_call_back(stack, console):
    supervisor = console.account("boss", "主管", Role.SUPERVISOR)
    sender = new_sender()
    assert "手机号" in stack.texts(stack.say(sender, "转人工"))
    reply = stack.texts(stack.say(sender, "13700003333"))
    assert "没有人工客服在线" in reply and "137****3333" in reply, reply
    assert "话费" in stack.texts(stack.say(sender, "怎么查话费"))  # the bot keeps answering
    token = console.login(supervisor)
    [queued] = [s for s in stack.api("GET", "/queue?kind=callback&limit=200", token).json()["sessions"] if s["id"] == session_id_of(stack, sender)]
    assert queued["status"] == "callback" and queued["callback_due"]


def test_live_updates_wake_a_waiting_console(stack, console):
    token = console.login(console.account("watcher"))
    cursor = stack.api("GET", "/events?after=0", token).json()["cursor"]
    started = time.monotonic()
    result = {}

    def poll():
        result["r"] = stack.api("GET", f"/events?after={cursor}&timeout=20", token)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    stack.say(new_sender(), "转人工")
    poller.join(30)
    events = result["r"].json()["events"]
    assert any(e["kind"] == "requested" for e in events)
    assert time.monotonic() - started < 15
