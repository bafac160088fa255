"""The last check on every reply (channels/reply_guard.py): never empty, no repeats, one 'not understood'."""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel

from channels.reply_guard import NOTHING_SENT, ReplyGuard


def send(guard: ReplyGuard, *messages: dict) -> None:
    async def go():
        for message in messages:
            await guard.send_response("c1", dict(message))

    asyncio.run(go())


def test_a_repeated_text_is_sent_once_and_the_channel_still_sees_everything_else():
    collector = CollectingOutputChannel()
    guard = ReplyGuard(collector)
    send(guard, {"text": "好的，请直接发送您要补充的内容。"}, {"text": "好的，请直接发送您要补充的内容。"}, {"text": "另一句"})
    assert [m["text"] for m in collector.messages] == ["好的，请直接发送您要补充的内容。", "另一句"]
    assert guard.messages is collector.messages  # the REST channel reads its collector through the guard


def test_only_one_not_understood_per_reply():
    collector = CollectingOutputChannel()
    guard = ReplyGuard(collector)
    send(guard, *[{"text": f"抱歉，我没太明白您的意思（{i}）"} for i in range(4)])
    assert len(collector.messages) == 1


def test_buttons_survive_the_guard():
    collector = CollectingOutputChannel()
    guard = ReplyGuard(collector)
    send(guard, {"text": "确认吗？", "buttons": [{"title": "确认", "payload": "/affirm"}]})
    assert collector.messages[0]["buttons"][0]["payload"] == "/affirm"


def test_a_turn_that_sent_nothing_gets_the_apology_and_a_turn_that_did_does_not():
    silent = CollectingOutputChannel()
    asyncio.run(ReplyGuard(silent).finish("c1", "affirm"))
    assert [m["text"] for m in silent.messages] == [NOTHING_SENT]
    spoken = CollectingOutputChannel()
    guard = ReplyGuard(spoken)
    send(guard, {"text": "您好"})
    asyncio.run(guard.finish("c1"))
    assert [m["text"] for m in spoken.messages] == ["您好"]
