"""Traffic limits against real servers (issue 14 item 4): a stack of its own with tight limits, since
the shared stack switches the per-address limits off (every test comes from 127.0.0.1)."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from tests.e2e.servers import Stack

pytestmark = pytest.mark.e2e

CUSTOMER_BURST = 6
NEW_SESSIONS = 8


@pytest.fixture(scope="module")
def tight(trained_model, tmp_path_factory):
    stack = Stack(
        tmp_path_factory.mktemp("limits"),
        trained_model,
        {
            "LIMIT_MESSAGE_CUSTOMER": f"{CUSTOMER_BURST}/600",
            "LIMIT_MESSAGE_ADDRESS": "1000/60",
            "LIMIT_SESSION_ADDRESS": f"{NEW_SESSIONS}/600",
            "LIMIT_SESSION_REQUEST_CUSTOMER": "3/600",
            "LIMIT_SESSION_REQUEST_ADDRESS": "1000/60",
            "LIMIT_HUMAN_CUSTOMER": "1/600",
            "LIMIT_HUMAN_ADDRESS": "1000/60",
            "LIMIT_IN_FLIGHT_CUSTOMER": "1",
        },
    ).start()
    yield stack
    stack.stop()


def post(stack: Stack, sender: str, text: str) -> requests.Response:
    return requests.post(f"{stack.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)


def limited(stack: Stack) -> dict:
    body = requests.get(f"{stack.url}/metrics", timeout=10).text
    found = {}
    for kind, scope, value in re.findall(r'intake_limited_total\{kind="(\w+)",scope="(\w+)"\} ([0-9.e+]+)', body):
        found[(kind, scope)] = float(value)
    return found


def user_turns(stack: Stack, sender: str) -> int:
    tracker = stack.tracker(sender) or {}
    return sum(1 for e in tracker.get("events") or [] if e.get("event") == "user")


def test_a_flooding_customer_is_told_to_slow_down_and_costs_nothing_more(tight):
    sender = "flood-" + uuid.uuid4().hex[:8]
    answers = [post(tight, sender, f"我的宽带第{i}次断网了") for i in range(CUSTOMER_BURST)]
    assert all(r.status_code == 200 and r.json() for r in answers), [r.text for r in answers]
    refused = post(tight, sender, "还是断网")
    assert refused.status_code == 429
    assert "太快" in refused.json()[0]["text"] and refused.json()[0]["recipient_id"] == sender
    assert int(refused.headers["Retry-After"]) >= 1
    # The refused message never reached the assistant: no NLU, no tracker event.
    assert user_turns(tight, sender) == CUSTOMER_BURST
    assert limited(tight).get(("message", "customer"), 0) >= 1


def test_a_customer_with_a_turn_in_progress_is_asked_to_wait(tight):
    """LIMIT_IN_FLIGHT_CUSTOMER=1: a second message while the first is handled gets a clear answer
    at once instead of queueing behind it."""
    sender = "busy-" + uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda i: post(tight, sender, "帮我查一下话费"), range(4)))
    texts = ["".join(m.get("text", "") for m in r.json()) for r in replies if r.status_code == 200]
    waits = [t for t in texts if "还在处理中" in t]
    assert waits, texts
    assert len(waits) < len(texts)  # and at least one was answered for real
    assert limited(tight).get(("turn", "customer"), 0) >= 1


def test_a_page_rejoining_in_a_loop_is_stopped(tight):
    client = socketio.Client()
    confirmed, errors = [], []
    client.on("session_confirm", confirmed.append)
    client.on("error_message", errors.append)
    client.connect(tight.url, transports=["polling"], socketio_path="/socket.io")
    try:
        for _ in range(10):
            client.emit("session_request", {"session_id": None})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (len(confirmed) >= 3 and errors):
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        client.eio.disconnect(abort=True)
    assert len(confirmed) == 3
    assert len(errors) == 1 and "太快" in errors[0]["text"]  # told once, not seven times
    assert limited(tight).get(("session_request", "customer"), 0) == 7


def _close_requests(stack, user_id: str) -> None:
    """What staff closing the call-back (已联系) leaves behind: no request of the customer stands."""
    import sqlalchemy as sa

    from bot.storage.database import Database
    from bot.storage.models import HandoffSessionRow

    db = Database(stack.ticket_db)
    try:
        with db.transaction() as session:
            session.execute(
                sa.update(HandoffSessionRow).where(HandoffSessionRow.channel_user_id == user_id).values(status="closed")
            )
    finally:
        db.dispose()


def test_asking_for_a_human_again_and_again_is_bounded(tight):
    sender = "human-" + uuid.uuid4().hex[:8]
    # Nobody is online: the assistant offers a call-back and asks for a number; declining it
    # files the request (a ticket and a queue entry).
    first = tight.texts(tight.say(sender, "转人工")) + tight.texts(tight.say(sender, "不留电话"))
    assert "多次申请" not in first
    # Asked again while that request stands: no refusal, the customer is told where it stands
    # (the dialogue fuzzer's customer who wrote 转人工 four times was refused).
    again = tight.texts(tight.say(sender, "转人工")) + tight.texts(tight.say(sender, "不留电话"))
    assert "转人工请求已记录在工单" in again and "多次申请" not in again, (first, again)
    # The call-back is closed; a new request within the window is refused.
    _close_requests(tight, sender)
    second = tight.texts(tight.say(sender, "我要人工客服")) + tight.texts(tight.say(sender, "不留电话"))
    assert "多次申请人工服务" in second, (first, second)
    body = requests.get(f"http://127.0.0.1:{tight.action_port}/metrics", timeout=10).text
    assert re.search(r'intake_handoff_requests_total\{outcome="limited"\} 2\.0', body), body[-2000:]


def test_the_in_flight_gauge_is_exposed(tight):
    body = requests.get(f"{tight.url}/metrics", timeout=10).text
    assert re.search(r"^intake_turns_in_flight 0\.0$", body, re.M)
    assert re.search(r"^intake_turns_waiting 0\.0$", body, re.M)
    assert re.search(r"^intake_turn_slot_timeouts_total 0\.0$", body, re.M)


def test_one_address_cannot_open_conversations_without_end(tight):
    """Last in this module: it spends the address's budget for new conversations."""
    statuses = []
    for _ in range(NEW_SESSIONS + 1):
        sender = "fresh-" + uuid.uuid4().hex[:10]
        statuses.append(post(tight, sender, "你好").status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) <= {200}, statuses
    assert tight.tracker(sender) is None or user_turns(tight, sender) == 0
    assert limited(tight).get(("session", "address"), 0) >= 1
