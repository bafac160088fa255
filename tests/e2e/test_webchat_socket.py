"""The web chat's socket.io protocol (Rasa SocketIOInput-compatible), spoken by a real socket.io client."""

from __future__ import annotations

import time

import pytest
import socketio

pytestmark = pytest.mark.e2e


def conversation(url: str, messages, session_id=None, wait: float = 20.0):
    """Connects, asks for a session, sends each message and collects the bot's answers."""
    client = socketio.Client()
    replies: list = []
    confirmed: list = []
    client.on("session_confirm", confirmed.append)
    client.on("bot_uttered", replies.append)
    # long-polling transport: plain HTTP, served by the same endpoint as websockets
    client.connect(url, transports=["polling"], socketio_path="/socket.io")
    try:
        client.emit("session_request", {"session_id": session_id})
        _until(lambda: confirmed, wait)
        sid = confirmed[0]
        for message in messages:
            before = len(replies)
            if isinstance(message, dict) and "message" in message and "session_id" not in message:
                message = {**message, "session_id": sid}
            client.emit("user_uttered", {"message": message, "session_id": sid} if isinstance(message, str) else message)
            _until(lambda: len(replies) > before, wait)
            time.sleep(0.3)
    finally:
        # abort: do not wait for the pending long-poll request (up to the 25 s ping interval)
        client.eio.disconnect(abort=True)
    return sid, replies


def _until(condition, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "no answer from the server"
        time.sleep(0.05)


def test_session_is_confirmed_and_kept(stack):
    sid, replies = conversation(stack.url, ["你好"])
    assert len(sid) == 32 and replies and "个人信息保护提示" in replies[0]["text"]  # first contact
    assert any("您好" in r["text"] for r in replies[1:])
    assert any(r.get("quick_replies") for r in replies)  # buttons arrive as quick replies
    again, _ = conversation(stack.url, [], session_id=sid)
    assert again == sid
    forged, _ = conversation(stack.url, [], session_id="../../etc/passwd")
    assert forged != "../../etc/passwd" and len(forged) == 32


def test_bad_socket_messages_get_clear_answers(stack):
    _, replies = conversation(stack.url, ["   ", "网" * 6000, ["not", "a", "dict"], {"message": 42}])
    texts = [r["text"] for r in replies]
    assert any("空消息" in t for t in texts)
    assert any("太长" in t for t in texts)
    assert sum("文字消息" in t for t in texts) == 2


def test_the_rasa_webchat_widgets_null_init_payload_is_a_greeting(stack):
    """rasa-webchat sends its `initPayload` (null by default) first: greet, never "文字消息"."""
    _, replies = conversation(stack.url, [{"message": None}])
    texts = [r["text"] for r in replies]
    assert not any("文字消息" in t for t in texts), texts
    assert any("您好，我是在线客服助手" in t for t in texts), texts
