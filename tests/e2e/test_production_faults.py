"""The production profile under fault injection (issue 14, item 6): processes killed in the middle of
turns lose no message and file no ticket twice (the supervisor of `make run-prod` restarts them), a
retried confirmation whose turn died files nothing twice, and readiness fails when a shared server
goes away. The stack: tests/e2e/production_support.py (one per test module)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import aiohttp
import pytest
import requests
import sqlalchemy as sa

from deploy.local import ProductionStack, Supervisor
from tests.e2e.production_support import NUMBER, TELEGRAM_SECRET, production_fixture, store_fixture  # noqa: F401
from tests.fake_telegram import button_update, text_update

pytestmark = pytest.mark.e2e


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
