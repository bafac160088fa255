"""The production profile's correctness (not its speed): PostgreSQL, Redis, two Rasa processes
behind nginx, started by `deploy.local` exactly as `make run-prod` starts them: readiness, sessions
that move between processes, concurrency, agent replies and web chat through nginx. What happens when
its processes are killed in the middle of turns: tests/e2e/test_production_faults.py."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from typing import Dict, List, Tuple

import aiohttp
import pytest
import requests
import socketio
import sqlalchemy as sa

from bot.staff import Role, StaffService
from bot.storage.database import Database
from deploy.local import ProductionStack
from tests.e2e.production_support import NUMBER, production_fixture, say, store_fixture  # noqa: F401

pytestmark = pytest.mark.e2e


def test_every_process_is_ready_and_nginx_balances(production):
    for index in range(2):
        body = requests.get(f"{production.rasa_url(index)}/readyz", timeout=5).json()
        assert body["status"] == "ready" and set(body["checks"]) == {"model", "ticket_store", "tracker_store", "redis"}
    assert requests.get(f"{production.url}/healthz", timeout=5).status_code == 200
    served = {say(production.url, uuid.uuid4().hex, "你好")[1] for _ in range(8)}
    assert len(served) == 2, served  # least_conn over two idle processes alternates


def test_the_local_servers_want_a_password(production):
    """Review L10: other local users cannot log in to the local PostgreSQL as its superuser, nor
    take Redis's conversation locks."""
    from urllib.parse import urlsplit

    import psycopg2
    import redis

    database = urlsplit(production.env["DATABASE_URL"])
    assert database.password and len(database.password) >= 32
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=database.port, user="postgres", dbname="intake",
                         password="wrong", connect_timeout=5)
    psycopg2.connect(production.env["DATABASE_URL"]).close()
    locks = urlsplit(production.env["REDIS_URL"])
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=locks.port, socket_timeout=5).ping()
    assert redis.Redis.from_url(production.env["REDIS_URL"], socket_timeout=5).ping()
    for name in ("postgres-password", "redis-password"):
        assert (production.workdir / name).stat().st_mode & 0o077 == 0


def test_a_conversation_continues_on_the_other_process(production, store):
    sender = uuid.uuid4().hex
    first, _ = say(production.rasa_url(0), sender, "家里宽带这两天老是断网，晚上根本没法用")
    assert "手机号" in first
    second, _ = say(production.rasa_url(1), sender, "13812345678")
    assert "请确认" in second and "138****5678" in second
    third, _ = say(production.rasa_url(0), sender, "确认")
    assert "登记成功" in third and NUMBER.search(third)
    with store.transaction() as session:
        count = session.execute(sa.text("SELECT count(*) FROM tickets WHERE channel_user_id = :u"), {"u": sender}).scalar()
    assert count == 1


def _turns(production: ProductionStack, sender: str) -> List[List[Dict]]:
    """The sender's tracker events from the shared PostgreSQL tracker store, split at user messages."""
    engine = sa.create_engine(production.env["TRACKER_STORE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
            ).scalars().all()
    finally:
        engine.dispose()
    turns: List[List[Dict]] = []
    for event in map(json.loads, rows):
        if event["event"] == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    return turns


def test_concurrent_messages_of_one_customer_are_never_interleaved(production):
    """Both processes get messages of the same conversation at the same time; the Redis lock store
    makes them take turns, so each user message is followed by its own complete answer."""
    sender = uuid.uuid4().hex
    texts = ["你好", "怎么查话费余额", "流量怎么查", "宽带怎么报修", "出国漫游怎么开通", "谢谢", "补卡需要什么", "再见"]

    async def send_all() -> List[Tuple[int, str, List[Dict]]]:
        async with aiohttp.ClientSession() as session:
            async def one(text: str) -> Tuple[int, str, List[Dict]]:
                async with session.post(f"{production.url}/webhooks/rest/webhook",
                                        json={"sender": sender, "message": text}) as r:
                    return r.status, r.headers.get("X-Served-By", ""), await r.json()
            return await asyncio.gather(*(one(t) for t in texts))

    results = asyncio.run(send_all())
    assert [status for status, _, _ in results] == [200] * len(texts)
    # Rasa answers a turn that failed (e.g. a lost lock) with an empty 200: every turn must be answered.
    assert all(replies for _, _, replies in results), results
    assert len({served for _, served, _ in results}) == 2  # both processes took part
    turns = _turns(production, sender)
    assert sorted(turn[0]["text"] for turn in turns) == sorted(texts)
    for turn in turns:
        kinds = [(e["event"], e.get("name")) for e in turn]
        assert ("user", None) not in kinds[1:]
        assert kinds[-1] == ("action", "action_listen"), kinds  # the turn finished before the next began
        assert sum(1 for kind, _ in kinds if kind == "bot") >= 1


def test_200_concurrent_complaints_make_200_tickets(production, store):
    senders = [uuid.uuid4().hex for _ in range(200)]

    async def complain(session: aiohttp.ClientSession, sender: str) -> str:
        last = ""
        for text in ("我们小区从中午开始手机一点信号都没有，打不了电话", "13812345678", "确认"):
            async with session.post(f"{production.url}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}) as r:
                assert r.status == 200
                last = "\n".join(m.get("text", "") for m in await r.json())
        return last

    async def run() -> List[str]:
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            return await asyncio.gather(*(complain(session, s) for s in senders))

    confirmations = asyncio.run(run())
    assert all("登记成功" in c and NUMBER.search(c) for c in confirmations), [c for c in confirmations if "登记成功" not in c][:3]
    numbers = [NUMBER.search(c).group(0) for c in confirmations]
    assert len(set(numbers)) == 200
    with store.transaction() as session:
        rows = session.execute(
            sa.text("SELECT channel_user_id, number FROM tickets WHERE channel_user_id IN :senders")
            .bindparams(sa.bindparam("senders", expanding=True)),
            {"senders": senders},
        ).all()
    assert len(rows) == 200
    assert Counter(user for user, _ in rows).most_common(1)[0][1] == 1
    assert {number for _, number in rows} == set(numbers)


def test_agent_reply_reaches_a_web_chat_customer_on_the_other_process(production, store):
    """The customer's socket is on process 2, the agent writes through process 1: the reply is
    stored by process 1, process 2 is woken over Redis and pushes it to the socket."""
    username = f"agent-{uuid.uuid4().hex[:6]}"
    StaffService(store).add(username, "小李", f"{username}-pw", Role.AGENT)
    api = f"{production.rasa_url(0)}/agent/api"
    token = requests.post(f"{api}/login", json={"username": username, "password": f"{username}-pw"}, timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    try:
        asyncio.run(_agent_reply_through_other_process(production, store, api, headers))
    finally:
        requests.post(f"{api}/logout", headers=headers, timeout=30)


async def _agent_reply_through_other_process(production: ProductionStack, store: Database, api: str,
                                             headers: Dict[str, str]) -> None:
    client = socketio.AsyncClient()
    replies: List[Dict] = []
    confirmed: List[str] = []
    arrived = asyncio.Event()

    async def on_bot(payload: Dict) -> None:
        replies.append(payload)
        if payload.get("agent"):
            arrived.set()

    client.on("session_confirm", lambda sid: confirmed.append(sid))
    client.on("bot_uttered", on_bot)
    # Straight to process 2 (long-polling: aiohttp 3.9 lacks what engineio's websocket client needs;
    # the browser test below goes through nginx with websockets).
    await client.connect(production.rasa_url(1), transports=["polling"], socketio_path="/socket.io")
    try:
        await client.emit("session_request", {"session_id": None})
        await _until(lambda: confirmed)
        session_id = confirmed[0]
        await client.emit("user_uttered", {"message": "转人工", "session_id": session_id})
        await _until(lambda: any("排" in r.get("text", "") or "人工" in r.get("text", "") for r in replies))
        with store.transaction() as session:
            handoff_id = session.execute(
                sa.text("SELECT id FROM handoff_sessions WHERE channel = 'webchat' AND channel_user_id = :u"),
                {"u": session_id}).scalar_one()
        loop = asyncio.get_running_loop()
        accepted = await loop.run_in_executor(
            None, lambda: requests.post(f"{api}/sessions/{handoff_id}/accept", headers=headers, timeout=30))
        assert accepted.status_code == 200, accepted.text
        sent_at = time.monotonic()
        posted = await loop.run_in_executor(None, lambda: requests.post(
            f"{api}/sessions/{handoff_id}/messages", headers=headers, json={"text": "您好，我是客服小李"}, timeout=30))
        assert posted.status_code in (200, 201), posted.text
        await asyncio.wait_for(arrived.wait(), 10)
        latency = time.monotonic() - sent_at
        print(f"agent reply -> socket on the other process: {latency * 1000:.0f} ms")
        assert any(r.get("agent") == "小李" and "我是客服小李" in r["text"] for r in replies)
    finally:
        await client.eio.disconnect(abort=True)


async def _until(condition, wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "no answer from the server"
        await asyncio.sleep(0.05)


@pytest.mark.browser
def test_web_chat_through_nginx_over_websockets(production, store):
    """A real browser on the balancer: the page's socket.io connection upgrades to a websocket
    through nginx, and agent replies written through either process reach it."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_browser import ARGS, CHROMIUM

    username = f"agent-{uuid.uuid4().hex[:6]}"
    StaffService(store).add(username, "小周", f"{username}-pw", Role.AGENT)
    apis = [f"{production.rasa_url(i)}/agent/api" for i in range(2)]
    token = requests.post(f"{apis[0]}/login", json={"username": username, "password": f"{username}-pw"},
                          timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(locale="zh-CN")
            sockets: List[str] = []
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto(f"{production.url}/chat/")
            page.wait_for_selector("text=已连接")
            assert any(url.startswith(f"ws://127.0.0.1:{production.port}/socket.io/") for url in sockets), sockets
            session_id = json.loads(page.evaluate("localStorage.getItem('intake.session')"))
            page.fill("#input", "转人工")
            page.press("#input", "Enter")
            page.wait_for_selector(".msg--bot >> text=人工", timeout=30_000)
            with store.transaction() as session:
                handoff_id = session.execute(
                    sa.text("SELECT id FROM handoff_sessions WHERE channel = 'webchat' AND channel_user_id = :u"),
                    {"u": session_id}).scalar_one()
            assert requests.post(f"{apis[0]}/sessions/{handoff_id}/accept", headers=headers, timeout=30).status_code == 200
            for index, api in enumerate(apis):
                text = f"第{index + 1}条：您好，我是客服小周"
                posted = requests.post(f"{api}/sessions/{handoff_id}/messages", headers=headers, json={"text": text}, timeout=30)
                assert posted.status_code in (200, 201), posted.text
                page.wait_for_selector(f"text={text}", timeout=10_000)
            browser.close()
    finally:
        requests.post(f"{apis[0]}/logout", headers=headers, timeout=30)
