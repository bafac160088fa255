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
            _until(lambda before=before: len(replies) > before, wait)
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


def test_an_id_the_server_did_not_issue_opens_nothing(stack):
    """Review M8: a well-formed id the server never issued (guessed, or taken from a log line of an
    older version) gets a fresh conversation, never someone else's."""
    import uuid

    made_up = uuid.uuid4().hex
    given, _ = conversation(stack.url, [], session_id=made_up)
    assert given != made_up and len(given) == 32


def test_a_new_conversation_ends_the_old_id(stack):
    """新对话 ends the old conversation on the server: its id no longer resumes it, and a second
    tab still on it is moved to a new conversation when it writes."""
    old, _ = conversation(stack.url, ["你好"])
    other_tab = socketio.Client()
    confirmed, errors, replies = [], [], []
    other_tab.on("session_confirm", confirmed.append)
    other_tab.on("error_message", errors.append)
    other_tab.on("bot_uttered", replies.append)
    other_tab.connect(stack.url, transports=["polling"], socketio_path="/socket.io")
    try:
        other_tab.emit("session_request", {"session_id": old})
        _until(lambda: confirmed, 20)
        assert confirmed == [old]
        # The first tab presses 新对话.
        client = socketio.Client()
        fresh: list = []
        client.on("session_confirm", fresh.append)
        client.connect(stack.url, transports=["polling"], socketio_path="/socket.io")
        try:
            client.emit("session_request", {"session_id": None, "end": old})
            _until(lambda: fresh, 20)
        finally:
            client.eio.disconnect(abort=True)
        assert fresh[0] != old
        other_tab.emit("user_uttered", {"message": "你好", "session_id": old})
        _until(lambda: len(confirmed) > 1 and replies, 20)
        assert confirmed[-1] not in (old, fresh[0])
        assert any("对话已结束" in e["text"] for e in errors)
    finally:
        other_tab.eio.disconnect(abort=True)
    again, _ = conversation(stack.url, [], session_id=old)
    assert again != old
