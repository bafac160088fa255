"""The Telegram channel's parts: splitting, retries, long polling, configuration (fake Bot API over HTTP)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiogram.utils import exceptions

from bot.delivery import Claim, InboundLog
from bot.handoff import WorkingHours
from bot.storage.database import Database
from bot.storage.models import InboundUpdateRow
from channels.hub import Hub, Undeliverable
from channels.telegram import TelegramApi, TelegramInput, _Busy, _retryable, split_text
from channels.telegram import input as telegram  # the module whose constants the tests shorten
from tests.fake_telegram import TOKEN, FakeTelegram, text_update


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


def test_long_text_is_split_at_line_breaks_within_the_limit():
    text = "\n".join(f"第{n}行：" + "字" * 50 for n in range(200))
    pieces = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in pieces) and len(pieces) > 5
    assert "\n".join(pieces) == text
    assert split_text("短") == ["短"] and split_text("") == [""]
    assert all(len(p) <= 100 for p in split_text("没有换行" * 100, 100))


def test_which_errors_are_retried():
    assert _retryable(exceptions.RetryAfter(3))
    assert _retryable(exceptions.TelegramAPIError("Internal Server Error"))
    assert _retryable(asyncio.TimeoutError())
    assert not _retryable(exceptions.BotBlocked("Forbidden: bot was blocked by the user"))
    assert not _retryable(exceptions.BadRequest("Bad Request: chat not found"))


def test_server_errors_are_retried_with_backoff_then_given_up(fake):
    waits = []

    async def no_sleep(seconds):
        waits.append(seconds)

    async def scenario():
        api = TelegramApi(TOKEN, fake.base, sleep=no_sleep)
        try:
            fake.fail_next("sendMessage", 502, "Bad Gateway")
            fake.fail_next("sendMessage", 429, "Too Many Requests", retry_after=7)
            await api.send(42, "你好")
            for _ in range(5):
                fake.fail_next("sendMessage", 500, "Internal Server Error")
            with pytest.raises(Undeliverable):
                await api.send(42, "再试")
        finally:
            await api.close()

    asyncio.run(scenario())
    assert waits[:2] == [0.5, 7.0]  # backoff, then Telegram's retry_after
    assert waits[2:] == [0.5, 1.0, 2.0, 4.0]
    assert [c.params["text"] for c in fake.recorded("sendMessage", 42)] == ["你好"]


def test_long_polling_feeds_updates_to_the_assistant(fake, db):
    hub = Hub(db, WorkingHours())
    channel = TelegramInput(token=TOKEN, api_base=fake.base, mode="polling")
    update = text_update(777, "宽带怎么办理")
    fake.queue_update(update)
    fake.queue_update(update)  # redelivered: handled once
    received = []

    async def assistant(message):
        received.append((message.sender_id, message.text, message.input_channel))

    async def scenario():
        hub.pulse.bind(asyncio.get_running_loop())
        task = asyncio.get_running_loop().create_task(channel._poll(hub, assistant))
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await channel.api.close()

    asyncio.run(scenario())
    assert received == [("777", "宽带怎么办理", "telegram")]
    assert fake.recorded("deleteWebhook") and fake.recorded("getUpdates")


def test_configuration_is_checked():
    with pytest.raises(ValueError):
        TelegramInput(token="not-a-token")
    with pytest.raises(ValueError):
        TelegramInput(token=TOKEN, mode="carrier-pigeon")
    assert TelegramInput(token="").api is None  # no token: the channel stays off


# -- at-least-once intake (issue 14, M5) ------------------------------------------------------


def test_an_update_is_claimed_for_a_lease_and_done_only_at_the_end(db, clock):
    log = InboundLog(db, clock, lease=timedelta(seconds=30))
    assert log.claim("telegram", "1", "a") is Claim.TAKEN
    assert log.claim("telegram", "1", "b") is Claim.BUSY  # a redelivery while "a" is on it
    clock.now += timedelta(seconds=20)
    assert log.renew("telegram", "1", "a")  # "a" is alive and keeps it
    clock.now += timedelta(seconds=20)
    assert log.claim("telegram", "1", "b") is Claim.BUSY
    clock.now += timedelta(seconds=31)  # "a" died: its claim ran out
    assert log.claim("telegram", "1", "b") is Claim.TAKEN
    assert not log.renew("telegram", "1", "a")  # a stalled "a" learns it lost the update
    log.release("telegram", "1", "a")  # and cannot give back what is no longer its own
    assert log.claim("telegram", "1", "c") is Claim.BUSY
    log.release("telegram", "1", "b")  # "b" failed: the next try may take it at once
    assert log.claim("telegram", "1", "c") is Claim.TAKEN
    log.done("telegram", "1")
    clock.now += timedelta(hours=1)
    assert log.claim("telegram", "1", "d") is Claim.DONE
    log.give_up("telegram", "2", "failed 3 times: KeyError")
    assert log.claim("telegram", "2", "d") is Claim.DONE


def _turn_then_killed(url: str, update: dict, ids) -> None:
    """A Rasa process that takes the update, is in the middle of the turn, and then gets SIGKILL."""
    hub = Hub(Database(url), WorkingHours())
    hub.inbound.lease = timedelta(seconds=1)
    channel = TelegramInput(token=TOKEN, api_base="http://127.0.0.1:9")  # a text turn calls no Bot API first

    async def assistant(message):
        ids.put(message.message_id)
        await asyncio.sleep(3600)

    asyncio.run(channel.process(hub, assistant, update))


def test_an_update_whose_process_died_mid_turn_is_handled_on_redelivery(db):
    update = text_update(901, "我家宽带断了，确认提交")
    ids = multiprocessing.get_context("fork").Queue()
    doomed = multiprocessing.get_context("fork").Process(target=_turn_then_killed, args=(db.url, update, ids))
    doomed.start()
    try:
        first_id = ids.get(timeout=60)
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join(10)
    hub = Hub(db, WorkingHours())
    hub.inbound.lease = timedelta(seconds=1)
    channel = TelegramInput(token=TOKEN, api_base="http://127.0.0.1:9")
    received = []

    async def assistant(message):
        received.append((message.text, message.message_id))

    async def redelivered():
        return await channel.process(hub, assistant, update), await channel.process(hub, assistant, update)

    assert asyncio.run(redelivered()) == ("text", "duplicate")
    # The same message to the action server both times: its idempotency key finds what the dead turn filed.
    assert received == [("我家宽带断了，确认提交", first_id)] and first_id == f"telegram-901-{update['update_id']}"


def test_a_redelivery_during_a_live_turn_waits_for_it(db, monkeypatch):
    hub = Hub(db, WorkingHours())
    channel = TelegramInput(token=TOKEN, api_base="http://127.0.0.1:9")
    update = text_update(902, "怎么查话费")
    calls = []

    async def scenario():
        finish, never = asyncio.Event(), asyncio.Event()

        async def slow(message):
            calls.append(message.text)
            await (finish if message.text == "怎么查话费" else never).wait()

        first = asyncio.get_running_loop().create_task(channel.process(hub, slow, update))
        while not calls:
            await asyncio.sleep(0.01)
        second = asyncio.get_running_loop().create_task(channel.process(hub, slow, update))
        await asyncio.sleep(0.5)
        held = not second.done()
        finish.set()
        results = await first, await second
        # Held longer than it may wait: Telegram is told to come back (the webhook answers 503).
        monkeypatch.setattr(telegram, "HOLD_SECONDS", 0.2)
        other = text_update(903, "流量怎么查")
        busy = asyncio.get_running_loop().create_task(channel.process(hub, slow, other))
        while len(calls) < 2:
            await asyncio.sleep(0.01)
        with pytest.raises(_Busy):
            await channel.process(hub, slow, other)
        busy.cancel()
        return held, results

    finish_held, results = asyncio.run(scenario())
    assert finish_held and results == ("text", "duplicate") and calls == ["怎么查话费", "流量怎么查"]


def test_long_polling_retries_a_failed_turn_and_records_one_that_keeps_failing(fake, db, monkeypatch):
    monkeypatch.setattr(telegram, "POLL_RETRY_PAUSE", 0.01)
    hub = Hub(db, WorkingHours())
    channel = TelegramInput(token=TOKEN, api_base=fake.base, mode="polling")
    flaky, poison, after = text_update(911, "宽带怎么办理"), text_update(912, "坏消息"), text_update(913, "后面的消息")
    for update in (flaky, poison, after):
        fake.queue_update(update)
    calls = []

    async def assistant(message):
        calls.append(message.text)
        if message.text == "坏消息" or calls == ["宽带怎么办理"]:
            raise RuntimeError("the turn broke")

    async def scenario():
        hub.pulse.bind(asyncio.get_running_loop())
        task = asyncio.get_running_loop().create_task(channel._poll(hub, assistant))
        for _ in range(200):
            if "后面的消息" in calls and not fake.updates:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await channel.api.close()

    asyncio.run(scenario())
    assert calls == ["宽带怎么办理", "宽带怎么办理", "坏消息", "坏消息", "坏消息", "后面的消息"]
    assert fake.updates == []  # every update confirmed in the end
    with db.transaction() as session:
        rows = {r.update_key: r for r in session.execute(sa.select(InboundUpdateRow)).scalars()}
        assert rows[str(poison["update_id"])].error == "failed 3 times: RuntimeError"
        assert all(r.done_at is not None for r in rows.values())
        assert rows[str(flaky["update_id"])].error is None


def test_the_bot_api_is_reached_over_https_unless_it_runs_on_this_machine():
    for base in ("http://example.org", "http://example.com:8081", "file:///tmp/bot", "ftp://example.org"):
        with pytest.raises(ValueError, match="TELEGRAM_API_BASE"):
            TelegramInput(token=TOKEN, api_base=base)  # the token would travel in clear text (or nowhere sane)
    for base in ("https://example.org", "http://127.0.0.1:8081", "http://localhost:8081", "http://[::1]:8081"):
        assert TelegramInput(token=TOKEN, api_base=base).api.api_base == base


def test_the_courier_waits_as_long_as_a_rate_limit_says(fake):
    from datetime import datetime, timezone

    from bot.handoff import Message
    from bot.tickets import Customer
    from channels.telegram import TelegramCourier

    now = [1000.0]
    message = Message(1, 1, datetime.now(timezone.utc), "agent", "wang", "您好，我是客服小王", Customer("telegram", "42"), "小王")

    async def scenario():
        api = TelegramApi(TOKEN, fake.base)
        courier = TelegramCourier(api, clock=lambda: now[0])
        try:
            fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30)
            assert await courier.deliver("42", message) is False
            now[0] += 1  # the pump's next round
            assert not courier.holds("42") and await courier.deliver("42", message) is False
            now[0] += 28.5
            assert not courier.holds("42")
            now[0] += 0.5  # 30 s after the 429
            assert courier.holds("42") and await courier.deliver("42", message) is True
        finally:
            await api.close()

    asyncio.run(scenario())
    calls = fake.recorded("sendMessage", 42, ok_only=False)
    assert [c.status for c in calls] == [429, 200]  # nothing was tried while the wait ran
