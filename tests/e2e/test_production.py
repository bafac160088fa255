"""The production profile's correctness (not its speed): PostgreSQL, Redis, two Rasa processes
behind nginx, started by `deploy.local` exactly as `make run-prod` starts them, and what happens when
its processes are killed in the middle of turns (the supervisor of `make run-prod` restarts them)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import aiohttp
import pytest
import requests
import socketio
import sqlalchemy as sa

from bot.staff import Role, StaffService
from bot.storage.database import Database
from deploy.local import ProductionStack, Supervisor, free_port
from tests.fake_telegram import TOKEN, button_update, text_update

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")


TELEGRAM_SECRET = "prod-webhook-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def production(trained_model, fake_telegram):
    # PostgreSQL runs as its own system user: the folder must be reachable for it (pytest's are 0700).
    workdir = Path(tempfile.mkdtemp(prefix="intake-prod-"))
    workdir.chmod(0o755)
    settings = {
        # Telegram webhooks through nginx; the Bot API is the fake one (no webhook registration).
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake_telegram.base,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_WEBHOOK_URL": "",
        # Every simulated customer comes from 127.0.0.1 (as in tests/e2e/servers.py).
        "LIMIT_MESSAGE_ADDRESS": "off",
        "LIMIT_SESSION_ADDRESS": "off",
        "LIMIT_SESSION_REQUEST_ADDRESS": "off",
        "LIMIT_HUMAN_ADDRESS": "off",
    }
    stack = ProductionStack(workdir, trained_model, port=free_port(), rasa_processes=2, durable=False,
                            extra_env=settings).start()
    yield stack
    stack.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def store(production):
    db = Database(production.env["DATABASE_URL"])
    yield db
    db.dispose()


def say(url: str, sender: str, text: str) -> Tuple[str, str]:
    """One REST turn; returns the bot's text and the process that served it (nginx's upstream)."""
    r = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    r.raise_for_status()
    return "\n".join(m.get("text", "") for m in r.json()), r.headers.get("X-Served-By", "")


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



# -- fault injection (issue 14, item 6) ---------------------------------------------------------


def test_a_retried_rest_confirmation_whose_turn_died_files_no_second_ticket(production, store):
    """The state a Rasa process leaves when it dies after the action server filed the ticket but
    before the turn was saved: the conversation as before the message. The client retries with the
    message's own id, so the action server finds the ticket instead of filing a second one."""
    sender = f"retry-{uuid.uuid4().hex[:12]}"

    def say_with_id(text: str, message_id: str) -> str:
        r = requests.post(f"{production.url}/webhooks/rest/webhook",
                          json={"sender": sender, "message": text, "message_id": message_id}, timeout=60)
        r.raise_for_status()
        return "\n".join(m.get("text", "") for m in r.json())

    say_with_id("我们小区从中午开始手机一点信号都没有，打不了电话", "m1")
    assert "请确认" in say_with_id("13812345678", "m2")
    tracker = sa.create_engine(production.env["TRACKER_STORE_URL"])
    try:
        with tracker.connect() as connection:
            saved = connection.execute(sa.text("SELECT max(id) FROM events WHERE sender_id = :s"),
                                       {"s": sender}).scalar()
        first = NUMBER.search(say_with_id("确认", "m3")).group(0)
        with tracker.begin() as connection:  # the dead turn saved nothing of its own
            connection.execute(sa.text("DELETE FROM events WHERE sender_id = :s AND id > :i"),
                               {"s": sender, "i": saved})
    finally:
        tracker.dispose()
    again = say_with_id("确认", "m3")
    assert "登记成功" in again and first in again
    with store.transaction() as session:
        numbers = session.execute(sa.text("SELECT number FROM tickets WHERE channel_user_id = :u"),
                                  {"u": sender}).scalars().all()
    assert numbers == [first]
    with pytest.raises(requests.HTTPError):  # the id is checked like the other fields
        say_with_id("你好", "x" * 65)


COMPLAINT = "我家宽带断网三天了，一直连不上，晚上根本没法用"
PHONE = "13812345678"


@dataclass
class Traffic:
    """What the simulated customers and their clients saw."""

    started: float = field(default_factory=time.monotonic)
    turns: int = 0  # messages answered (HTTP 200 with an answer)
    in_flight: int = 0
    redelivered: List[Tuple[str, str]] = field(default_factory=list)  # (channel, why)
    kills: List[Tuple[str, float, int]] = field(default_factory=list)  # (process, seconds in, turns in flight)
    rest_answers: Dict[str, List[str]] = field(default_factory=dict)
    done: bool = False


async def _until_answered(traffic: Traffic, channel: str, post) -> Any:
    """Post until answered, as Telegram (and any sane REST client) does: a 5xx, a cut connection or
    an empty answer is sent again, the same message with the same id."""
    deadline = time.monotonic() + 300
    while True:
        traffic.in_flight += 1
        try:
            status, body = await post()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            status, body = error.__class__.__name__, None
        finally:
            traffic.in_flight -= 1
        if status == 200 and body:
            traffic.turns += 1
            return body
        traffic.redelivered.append((channel, str(status)))
        assert time.monotonic() < deadline, f"a {channel} message was never answered ({status})"
        await asyncio.sleep(1.0)


async def _telegram_customer(session: aiohttp.ClientSession, url: str, user: int, traffic: Traffic) -> None:
    steps = (text_update(user, COMPLAINT), text_update(user, PHONE), button_update(user, "/affirm", message_id=7))
    for update in steps:
        async def post(update=update) -> Tuple[int, Any]:
            async with session.post(f"{url}/webhooks/telegram/webhook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}) as r:
                return r.status, (await r.json(content_type=None)) if r.status == 200 else None

        body = await _until_answered(traffic, "telegram", post)
        assert body["status"] in ("text", "button", "duplicate"), body


async def _rest_customer(session: aiohttp.ClientSession, url: str, sender: str, traffic: Traffic) -> None:
    answers = traffic.rest_answers.setdefault(sender, [])
    for step, text in enumerate((COMPLAINT, PHONE, "确认")):
        async def post(step=step, text=text) -> Tuple[int, Any]:
            message = {"sender": sender, "message": text, "message_id": f"{sender}-{step}"}
            async with session.post(f"{url}/webhooks/rest/webhook", json=message) as r:
                return r.status, (await r.json(content_type=None)) if r.status == 200 else None

        replies = await _until_answered(traffic, "rest", post)
        answers.append("\n".join(m.get("text", "") for m in replies))


async def _kill_in_the_middle(production: ProductionStack, traffic: Traffic, total_turns: int) -> None:
    """SIGKILL the action server, then a Rasa process, while turns are in flight (no warning, no
    shutdown: what an OOM kill or a lost node does)."""
    while (traffic.turns < total_turns // 4 or traffic.in_flight < 4) and not traffic.done:
        await asyncio.sleep(0.05)
    for name in ("actions", "rasa-1"):
        [service] = [s for s in production.services if s.name == name]
        traffic.kills.append((name, time.monotonic() - traffic.started, traffic.in_flight))
        os.kill(service.process.pid, signal.SIGKILL)
        await asyncio.sleep(1.0)


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def test_killed_processes_lose_no_message_and_file_no_ticket_twice(production, store, fake_telegram):
    """The action server and a Rasa process are SIGKILLed while Telegram updates and REST messages are
    being handled. The supervisor of `make run-prod` restarts both while the other Rasa process keeps
    serving; every customer message is answered (what was cut off is redelivered by the client, as
    Telegram does), and every complaint is filed as exactly one ticket."""
    said: List[str] = []
    supervisor = Supervisor(production, say=lambda line: (said.append(line), print(f"supervisor: {line}")))
    metrics_port = supervisor.serve_metrics()
    supervisor.start(interval=0.2)
    users = [random.randint(10_000_000, 2_000_000_000) for _ in range(10)]
    senders = [f"fault-{uuid.uuid4().hex[:12]}" for _ in range(10)]
    traffic = Traffic()

    async def run() -> None:
        timeout = aiohttp.ClientTimeout(total=240)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            kills = asyncio.get_running_loop().create_task(_kill_in_the_middle(production, traffic, 3 * 20))
            await asyncio.gather(*(_telegram_customer(session, production.url, u, traffic) for u in users),
                                 *(_rest_customer(session, production.url, s, traffic) for s in senders))
            traffic.done = True
            await kills

    try:
        asyncio.run(run())
        served = time.monotonic() - traffic.started
        # Both killed processes come back by themselves and are ready again.
        for url in (f"{production.rasa_url(0)}/readyz", f"http://127.0.0.1:{production.action_port}/readyz"):
            deadline = time.monotonic() + 240
            while True:
                try:
                    if requests.get(url, timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"{url} not ready again\n{production.log('rasa-1')}"
                time.sleep(0.5)
        back = time.monotonic() - traffic.started
        supervised = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    finally:
        supervisor.stop()

    print(f"kills (process, s after start, turns in flight): {traffic.kills}; all {traffic.turns} messages "
          f"answered after {served:.1f} s, both processes ready again after {back:.1f} s; redelivered: "
          f"{sorted(Counter(traffic.redelivered).items())}")

    with store.transaction() as session:
        rows = session.execute(
            sa.text("SELECT channel, channel_user_id, number FROM tickets WHERE channel_user_id IN :ids")
            .bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": [str(u) for u in users] + senders},
        ).all()
        unfinished = session.execute(
            sa.text("SELECT count(*) FROM inbound_updates WHERE channel = 'telegram' AND done_at IS NULL")
        ).scalar()
    numbers = {(channel, user): number for channel, user, number in rows}
    assert sorted(Counter((c, u) for c, u, _ in rows).values()) == [1] * 20  # every complaint: one ticket
    for user in users:  # every Telegram customer was told their ticket, and only that one
        told = {m.group(0) for text in fake_telegram.texts(user) for m in NUMBER.finditer(text)}
        assert told == {numbers[("telegram", str(user))]}, (user, fake_telegram.texts(user))
    for sender in senders:
        assert "登记成功" in traffic.rest_answers[sender][-1], traffic.rest_answers[sender]
        assert numbers[("rest", sender)] in traffic.rest_answers[sender][-1]
    assert unfinished == 0  # every update taken in was handled to the end
    assert [name for name, _, in_flight in traffic.kills if in_flight] == ["actions", "rasa-1"]  # mid-turn
    assert traffic.redelivered, "no turn was cut off: the kills did not land in the middle of turns"
    assert 'intake_process_restarts_total{process="actions"} 1.0' in supervised
    assert 'intake_process_restarts_total{process="rasa-1"} 1.0' in supervised
    assert 'intake_process_restarts_total{process="rasa-2"} 0.0' in supervised  # kept serving
    assert any(line.startswith("rasa-1 restarted") for line in said)
    retried = sum(_metric(requests.get(f"{production.rasa_url(i)}/metrics", timeout=10).text,
                          "intake_action_call_retries_total") for i in range(2))
    print(f"action calls made again while the action server restarted: {retried:.0f}")
    assert retried > 0  # the action server died with calls to make (the restarted rasa-1 counts from zero)


def test_readiness_fails_when_a_shared_server_goes_away(production):
    """Last in this module: it stops the stack's Redis and then its PostgreSQL."""
    from deploy.local import terminate

    def checks(index: int) -> Tuple[int, Dict[str, str]]:
        r = requests.get(f"{production.rasa_url(index)}/readyz", timeout=30)
        return r.status_code, r.json()["checks"]

    assert checks(0)[0] == 200
    assert production.redis is not None
    terminate(production.redis)
    status, found = checks(0)
    assert status == 503 and found["redis"] == "unreachable" and found["model"] == "ok", found
    assert production.postgres is not None
    production.postgres.stop()
    status, found = checks(1)
    assert status == 503, found
    assert found["ticket_store"] == "unreachable" and found["tracker_store"].startswith("unreachable"), found
    assert requests.get(f"{production.rasa_url(1)}/healthz", timeout=10).status_code == 200  # alive, not ready
