"""The Telegram channel's parts: splitting, retries, long polling, configuration (fake Bot API over HTTP)."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.utils import exceptions

from bot.handoff import WorkingHours
from channels.hub import Hub, Undeliverable
from channels.telegram import TelegramApi, TelegramInput, _retryable, split_text
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
