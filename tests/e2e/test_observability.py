"""Observability of the real stack: a full conversation through the REST channel, then the figures of
both /metrics endpoints against the store and the trackers, and every log line of every process:
valid JSON, with request and conversation ids, and without the customer's phone number or name."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot import logs
from bot.staff import StaffService
from bot.storage.database import Database
from bot.storage.models import HandoffSessionRow, OutboxEventRow, TicketRow
from tests import polling
from tests.e2e.servers import Stack
from tests.outbox_support import Backend

pytestmark = pytest.mark.e2e

PHONE = "13912345678"
NAME = "张三"
SECRET = "observability-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def observed(trained_model, tmp_path_factory):
    """A stack of its own: JSON logs at DEBUG (Rasa then logs every message text), a backend that
    fails at first."""
    backend = Backend(tmp_path_factory.mktemp("obs-backend"), secret=SECRET)
    backend.start()
    settings = {"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json", "BACKEND_URL": backend.url, "BACKEND_SECRET": SECRET}
    stack = Stack(tmp_path_factory.mktemp("obs-stack"), trained_model, settings).start()
    yield stack, backend
    stack.stop()
    backend.kill()


def scrape(url: str) -> dict:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    return polling.wait_for(condition, timeout, what, every=0.2)


def test_a_full_conversation_is_measured_and_logged_without_personal_data(observed):
    stack, backend = observed
    rasa_metrics, action_metrics = f"{stack.url}/metrics", f"http://127.0.0.1:{stack.action_port}/metrics"
    db = Database(stack.ticket_db)
    db.migrate()  # idempotent: the servers may not have done it yet
    staff = StaffService(db)
    staff.add("obs-agent", "小王", "obs-agent-password")
    token = stack.api("POST", "/login", json={"username": "obs-agent", "password": "obs-agent-password"}).json()["token"]

    alice, bob = "obs-" + uuid.uuid4().hex[:12], "obs-" + uuid.uuid4().hex[:12]
    backend.mode("500")  # the backend is down at first: the outbox retries
    bot_turns = 0
    for text in ("你好", f"我叫{NAME}，家里宽带天天断网，电话 139-1234-5678", "是的"):
        assert stack.say(alice, text)
        bot_turns += 1
    assert stack.say(alice, f"补充一下：我的手机是{PHONE}，联系人{NAME}，晚上都在家")
    bot_turns += 1
    wait_for(lambda: scrape(rasa_metrics).get(("intake_outbox_deliveries_total", (("outcome", "failed"),)), 0) >= 1,
             what="a failed push")
    during = scrape(rasa_metrics)
    assert during[("intake_outbox_pending", ())] > 0 and during[("intake_outbox_oldest_pending_age_seconds", ())] > 0
    backend.mode("ok")

    # A human: the agent is online, so both customers wait in the queue; the agent takes Alice.
    # The request carries an id of the caller's, which comes back and is in the logs.
    answer = requests.post(f"{stack.url}/webhooks/rest/webhook", json={"sender": alice, "message": "转人工"},
                           headers={"X-Request-ID": "e2e-obs-request-1"}, timeout=60)
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "e2e-obs-request-1"
    assert stack.say(bob, "转人工")
    bot_turns += 2
    session = stack.handoff_session("rest", alice)
    assert stack.api("POST", f"/sessions/{session}/accept", token).status_code == 200
    stack.say(alice, "你好，在吗？")  # to the agent, not to the bot

    # The outbox catches up once the backend is back.
    wait_for(lambda: scrape(rasa_metrics)[("intake_outbox_pending", ())] == 0, timeout=60, what="an empty outbox")
    time.sleep(5.1)  # the store's figures are cached for 5 s
    rasa, actions = scrape(rasa_metrics), scrape(action_metrics)

    # Turns and their latency.
    assert rasa[("intake_turns_total", (("channel", "rest"), ("route", "bot")))] == bot_turns
    assert rasa[("intake_turns_total", (("channel", "rest"), ("route", "human")))] == 1
    assert rasa[("intake_turn_duration_seconds_count", (("channel", "rest"),))] == bot_turns
    assert 0 < rasa[("intake_turn_duration_seconds_sum", (("channel", "rest"),))] < 60 * bot_turns
    assert rasa.get(("intake_turn_errors_total", (("channel", "rest"),)), 0) == 0

    # Intents: exactly what the trackers recorded for the two customers.
    predicted = Counter()
    for sender in (alice, bob):
        for event in stack.tracker(sender)["events"]:
            if event["event"] == "user":
                predicted[event["parse_data"]["intent"]["name"]] += 1
    counted = {dict(labels)["intent"]: value for (n, labels), value in rasa.items() if n == "intake_intents_total"}
    assert counted == predicted and predicted["escalate"] == 2 and sum(predicted.values()) == bot_turns

    # Handoff: two requests queued, one accepted; one customer still waiting.
    assert actions[("intake_handoff_requests_total", (("outcome", "queued"),))] == 2
    assert rasa[("intake_handoff_accepts_total", ())] == 1
    with db.transaction() as s:
        tickets = Counter(s.execute(sa.select(TicketRow.status)).scalars())
        sessions = Counter(s.execute(sa.select(HandoffSessionRow.status)).scalars())
        outbox = s.execute(sa.select(OutboxEventRow.delivered_at, OutboxEventRow.attempts)).all()
    assert sessions == {"waiting": 1, "active": 1}
    assert rasa[("intake_handoff_sessions", (("status", "waiting"),))] == 1
    assert rasa[("intake_handoff_sessions", (("status", "active"),))] == 1
    assert rasa[("intake_handoff_queue_length", ())] == 1

    # Tickets by status and the outbox, as the store has them.
    assert sum(tickets.values()) == 2
    for status, count in tickets.items():
        assert rasa[("intake_tickets", (("status", status),))] == count
    assert sum(v for (n, _), v in rasa.items() if n == "intake_tickets") == 2
    assert rasa[("intake_store_up", ())] == 1
    assert all(delivered is not None for delivered, _ in outbox)
    assert rasa[("intake_outbox_deliveries_total", (("outcome", "delivered"),))] == len(outbox)
    assert rasa[("intake_outbox_deliveries_total", (("outcome", "failed"),))] == sum(a - 1 for _, a in outbox) >= 1
    assert rasa[("intake_outbox_dead", ())] == 0 and rasa[("intake_outbox_pending", ())] == 0

    # Action calls, by action.
    filed_in_trackers = sum(
        1 for e in stack.tracker(alice)["events"] if e["event"] == "action" and e["name"] == "action_file_complaint"
    )
    assert actions[("intake_action_calls_total", (("action", "action_file_complaint"), ("outcome", "ok")))] == filed_in_trackers == 1
    assert actions[("intake_action_calls_total", (("action", "action_request_human"), ("outcome", "ok")))] == 2
    assert not [k for k in actions if k[0] == "intake_action_calls_total" and ("outcome", "error") in k[1]]
    assert actions[("intake_action_duration_seconds_count", (("action", "action_file_complaint"),))] == 1

    # Readiness of the action server.
    ready = requests.get(f"http://127.0.0.1:{stack.action_port}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"] == {"ticket_store": "ok"} and ready.headers["X-Request-ID"]

    # How long a scrape takes (reported by the test run; each under a second).
    timings = {}
    for name, url in (("rasa", rasa_metrics), ("actions", action_metrics)):
        spent = []
        for _ in range(20):
            started = time.perf_counter()
            requests.get(url, timeout=10).raise_for_status()
            spent.append(time.perf_counter() - started)
        timings[name] = (statistics.median(spent) * 1000, max(spent) * 1000)
        assert max(spent) < 1.0
    turns = rasa[("intake_turn_duration_seconds_sum", (("channel", "rest"),))] / bot_turns
    print(f"\nmean bot turn (REST, DEBUG logs): {turns * 1000:.0f} ms")
    print("/metrics scrape ms (median, max):", {k: tuple(round(x, 1) for x in v) for k, v in timings.items()})

    check_logs(Path(stack.workdir), [alice, bob])
    db.dispose()


def check_logs(workdir: Path, senders) -> None:
    files = sorted(workdir.glob("*.log"))
    assert {f.name for f in files} >= {"rasa.log", "actions.log"}
    from unittest import mock

    from tests.e2e.servers import LOG_ID_KEY

    with mock.patch.dict(os.environ, {"LOG_ID_KEY": LOG_ID_KEY}):  # the servers' key, not this process's
        refs = {logs.conversation_ref(sender) for sender in senders}
    parsed = {}
    for path in files:
        raw = path.read_text(encoding="utf-8", errors="replace")
        # (3) Neither the phone number, in any of its written forms, nor the name, also JSON-escaped.
        for secret in (PHONE, "139-1234-5678", "139 1234 5678", NAME, json.dumps(NAME)[1:-1]):
            assert secret not in raw, f"{secret!r} in {path.name}"
        # (2) One JSON object per line.
        lines = raw.splitlines()
        assert lines, path.name
        docs = []
        for number, line in enumerate(lines, 1):
            try:
                doc = json.loads(line)
            except ValueError:
                raise AssertionError(f"{path.name}:{number} is not JSON: {line[:200]}") from None
            assert {"ts", "level", "logger", "message"} <= set(doc), line[:200]
            docs.append(doc)
        parsed[path.name] = docs

    rasa, actions = parsed["rasa.log"], parsed["actions.log"]
    # Rasa logs every parsed message at DEBUG: with the ids of its request and conversation, masked.
    parses = [d for d in rasa if d["message"] == "processor.message.parse"]
    assert len(parses) >= 6  # one per message that reached the bot
    assert all(d.get("request_id") and d.get("conversation_id") in refs and d.get("channel") == "rest" for d in parses)
    assert any("139****5678" in json.dumps(d["fields"], ensure_ascii=False) for d in parses)
    assert any("我叫**" in d["fields"]["parse_data_text"] for d in parses)
    assert {d["conversation_id"] for d in parses} == refs
    # The caller's request id is on the lines of that request.
    assert any(d.get("request_id") == "e2e-obs-request-1" and d.get("conversation_id") in refs for d in rasa)
    # The action server: every action call's lines carry the conversation.
    runs = [d for d in actions if d["message"].startswith("Received request to run")]
    assert len(runs) >= 5 and all(d.get("request_id") and d.get("conversation_id") in refs for d in runs)
    per_turn = Counter(d["request_id"] for d in rasa if d.get("request_id") in {p["request_id"] for p in parses})
    print(f"log lines per bot turn at DEBUG (Rasa process): median {statistics.median(per_turn.values())}, "
          f"max {max(per_turn.values())}; action server lines: {len(actions)}")
    # The libraries' records went through the same handler.
    assert {"rasa", "rasa_sdk"} <= {d["logger"].split(".")[0] for d in rasa + actions}
