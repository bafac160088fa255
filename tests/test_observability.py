"""Monitoring figures from the store, the Prometheus collectors, the action server and request sizes.
Logs and masking: tests/test_observability_logs.py."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot import logs
from bot.categories import Category
from bot.handoff import HandoffService
from bot.monitoring import FiguresCache, StoreFigures
from bot.outbox import OutboxDispatcher, Settings
from bot.staff import StaffService
from bot.storage.database import Database
from bot.tickets import Customer, Status, TicketService
from tests.e2e.servers import free_port
from tests.observability_support import own_context_fixture  # noqa: F401
from tests.outbox_support import RecordingBackend


def samples(registry: CollectorRegistry) -> dict:
    """{(name, labels as sorted tuple): value} of a registry's exposition, parsed back."""
    found = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def store_registry(db: Database, **cache) -> CollectorRegistry:
    from channels.metrics import StoreCollector

    registry = CollectorRegistry()
    registry.register(StoreCollector(FiguresCache(lambda: StoreFigures.read(db), **cache).get))
    return registry


# -- figures of the store ----------------------------------------------------------------------


def test_store_gauges_match_a_known_state_of_the_store(db):
    tickets = TicketService(db)
    staff = StaffService(db)
    handoff = HandoffService(db, staff)
    numbers = [
        tickets.open_complaint(Customer("rest", f"c{n}"), Category.NETWORK, "宽带断网三天了", "13800001111")[0].number
        for n in range(4)
    ]
    tickets.assign(numbers[0], "wang", "wang")
    tickets.transition(numbers[1], Status.RESOLVED, "wang", "已修复")
    # Nobody online: a call-back is promised. Then an agent logs in: the next request waits in the queue.
    handoff.request(Customer("rest", "c2"), "客户要求转人工")
    staff.add("li", "小李", "li-password-1")
    staff.login("li", "li-password-1")
    handoff.request(Customer("rest", "c3"), "客户要求转人工")
    backend = RecordingBackend()
    dispatcher = OutboxDispatcher(db, Settings("http://127.0.0.1:9/x", "s" * 16, max_attempts=1), sender=backend)
    dispatcher.run_once()  # the oldest event of each ticket is delivered
    backend.failing, backend.failure = True, "HTTP 422"
    dispatcher.run_once()  # the next event of each ticket is rejected: dead at the first attempt

    later = datetime.now(timezone.utc) + timedelta(hours=1)
    figures = StoreFigures.read(db, clock=lambda: later)
    assert figures.tickets == {"new": 2, "assigned": 1, "in_progress": 0, "resolved": 1, "closed": 0, "reopened": 0}
    assert figures.handoff_sessions == {
        "waiting": 1, "callback": 1, "active": 0, "released": 0, "closed": 0, "cancelled": 0,
    }
    assert figures.queue_length == 2
    dead = len([c for c in backend.calls if c[1]["kind"] == "dispatched"])
    assert dead == 4 and figures.outbox_dead == dead
    with db.transaction() as session:
        from bot.storage.models import OutboxEventRow

        rows = session.query(OutboxEventRow).all()
        pending = [r for r in rows if r.delivered_at is None and r.dead_at is None]
    assert figures.outbox_pending == len(pending) > 0
    oldest = min(r.created_at for r in pending)
    assert figures.outbox_oldest_pending_seconds == pytest.approx((later - oldest).total_seconds(), abs=0.01)
    assert 3600 <= figures.outbox_oldest_pending_seconds < 3600 + 120

    found = samples(store_registry(db))
    assert found[("intake_store_up", ())] == 1
    assert found[("intake_tickets", (("status", "new"),))] == 2
    assert found[("intake_tickets", (("status", "assigned"),))] == 1
    assert found[("intake_tickets", (("status", "resolved"),))] == 1
    assert found[("intake_handoff_sessions", (("status", "waiting"),))] == 1
    assert found[("intake_handoff_queue_length", ())] == 2
    assert found[("intake_outbox_dead", ())] == 4
    assert found[("intake_outbox_pending", ())] == len(pending)
    assert 0 <= found[("intake_outbox_oldest_pending_age_seconds", ())] < 120


def test_the_gauges_are_cached_for_a_few_seconds(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'tickets.db'}")
    db.migrate()
    reads = []

    def read():
        reads.append(1)
        return StoreFigures.read(db)

    now = [0.0]
    cache = FiguresCache(read, max_age=5.0, clock=lambda: now[0])
    TicketService(db).open_complaint(Customer("rest", "a"), Category.NETWORK, "宽带断网三天了", None)
    assert cache.get().tickets["new"] == 1
    TicketService(db).open_complaint(Customer("rest", "b"), Category.NETWORK, "宽带断网三天了", None)
    now[0] = 4.9
    assert cache.get().tickets["new"] == 1 and len(reads) == 1  # cached
    now[0] = 5.0
    assert cache.get().tickets["new"] == 2 and len(reads) == 2
    db.dispose()


def test_a_store_that_is_down_makes_the_up_gauge_zero_and_metrics_still_answer():
    # Nothing listens on this port: connection refused.
    db = Database(f"postgresql://intake:x@127.0.0.1:{free_port()}/tickets")
    started = time.monotonic()
    found = samples(store_registry(db))
    assert found == {("intake_store_up", ()): 0}
    assert time.monotonic() - started < 5
    db.dispose()


def test_a_store_that_hangs_gives_up_after_the_timeout_and_reads_once_at_a_time():
    # A server that accepts connections and never answers (a network partition, a stuck database).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    db = Database(f"postgresql://intake:x@127.0.0.1:{port}/tickets")
    attempts = []

    def read():
        attempts.append(1)
        return StoreFigures.read(db)

    registry = CollectorRegistry()
    from channels.metrics import StoreCollector

    registry.register(StoreCollector(FiguresCache(read, timeout=0.5).get))
    try:
        for _ in range(3):
            started = time.monotonic()
            assert samples(registry) == {("intake_store_up", ()): 0}
            assert time.monotonic() - started < 2
        assert len(attempts) == 1  # the hung reading is waited for, not stacked up
    finally:
        listener.close()  # the hung connection fails and the reading thread ends
        db.dispose()


def test_the_rasa_process_serves_its_registry_with_the_store_down():
    from channels import metrics

    metrics.watch_store(Database(f"postgresql://intake:x@127.0.0.1:{free_port()}/tickets"), timeout=1.0)
    body = asyncio.run(metrics.exposition()).decode()
    assert "intake_store_up 0.0" in body
    assert "# TYPE intake_turns_total counter" in body and "process_resident_memory_bytes" in body


# -- turns and intents ---------------------------------------------------------------------------


class _Message:
    def __init__(self, sender: str, channel: str) -> None:
        self.sender_id, self.input_channel = sender, channel


def test_turns_are_counted_by_channel_and_route_and_bot_turns_timed():
    from channels import metrics

    def value(name, **labels):
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    before = (value("intake_turns_total", channel="t-chan", route="bot"),
              value("intake_turns_total", channel="t-chan", route="human"),
              value("intake_turn_duration_seconds_count", channel="t-chan"),
              value("intake_intents_total", intent="greet"), value("intake_intents_total", intent="other"))
    seen = {}

    async def bot(message):
        seen["conversation"] = logs.CONVERSATION_ID.get()
        metrics.intent_predicted({"intent": {"name": "greet"}}, ["greet"])
        metrics.intent_predicted({"intent": {"name": "made_up_by_customer"}}, ["greet"])
        await asyncio.sleep(0.05)
        return ["reply"]

    async def human(message):
        metrics.routed_to_human()

    async def main():
        assert await metrics.observe_turns(bot)(_Message("alice", "t-chan")) == ["reply"]
        await metrics.observe_turns(human)(_Message("alice", "t-chan"))

    asyncio.run(main())
    metrics.intent_predicted({"intent": {"name": "greet"}}, ["greet"])  # outside a turn (/model/parse): not counted
    after = (value("intake_turns_total", channel="t-chan", route="bot"),
             value("intake_turns_total", channel="t-chan", route="human"),
             value("intake_turn_duration_seconds_count", channel="t-chan"),
             value("intake_intents_total", intent="greet"), value("intake_intents_total", intent="other"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1, 1, 1]
    assert value("intake_turn_duration_seconds_sum", channel="t-chan") >= 0.045  # the 50 ms sleep, by the loop's clock
    assert seen["conversation"] == logs.conversation_ref("alice") != "alice"


# -- the action server ---------------------------------------------------------------------------


ACTION_LOG_ID_KEY = "action-server-log-key-for-tests"


def start_action_server(tmp_path, database_url: str, base_env=None):
    import os
    import subprocess
    import sys

    import requests

    from tests.e2e.servers import ROOT

    port = free_port()
    env = dict(base_env or os.environ, DATABASE_URL=database_url, SANIC_HOST="127.0.0.1", LOG_FORMAT="json",
               LOG_LEVEL="INFO", LOG_ID_KEY=ACTION_LOG_ID_KEY, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    log = open(tmp_path / f"actions-{port}.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "actions.server", "--actions", "actions", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process, f"http://127.0.0.1:{port}"
        except requests.RequestException:
            assert process.poll() is None, (tmp_path / f"actions-{port}.log").read_text()
            time.sleep(0.2)
    process.kill()
    raise AssertionError("action server did not start")


def test_the_action_server_counts_calls_returns_request_ids_and_reports_readiness(tmp_path, monkeypatch):
    import requests

    monkeypatch.setenv("LOG_ID_KEY", ACTION_LOG_ID_KEY)  # the server's pseudonyms, computed here

    process, url = start_action_server(tmp_path, f"sqlite:///{tmp_path / 'tickets.db'}")
    try:
        tracker = {"sender_id": "alice", "latest_input_channel": "rest", "slots": {}, "latest_message": {},
                   "events": [], "paused": False, "followup_action": None, "active_loop": {},
                   "latest_action_name": None}
        call = {"next_action": "made_up_action", "tracker": tracker, "domain": {}, "version": "3.6.2"}
        answer = requests.post(f"{url}/webhook", json=call, headers={"X-Request-ID": "caller-7"}, timeout=30)
        assert answer.status_code == 404 and answer.headers["X-Request-ID"] == "caller-7"
        assert requests.post(f"{url}/webhook", data=b"{not json", timeout=30).status_code in (400, 500)
        ready = requests.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 200 and ready.json()["checks"] == {"ticket_store": "ok"}
        assert len(ready.headers["X-Request-ID"]) == 32
        found = {}
        for family in text_string_to_metric_families(requests.get(f"{url}/metrics", timeout=30).text):
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        # An unknown name never becomes a label value.
        assert found[("intake_action_calls_total", (("action", "unknown"), ("outcome", "not_found")))] == 1
        assert not [key for key in found if ("action", "made_up_action") in key[1]]
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = [json.loads(line) for line in (tmp_path.glob("actions-*.log").__next__()).read_text().splitlines()]
    assert any(line.get("request_id") == "caller-7" and line.get("conversation_id") == logs.conversation_ref("alice")
               for line in lines)


def test_the_action_server_is_not_ready_without_its_store(tmp_path):
    import requests

    process, url = start_action_server(tmp_path, f"postgresql://intake:x@127.0.0.1:{free_port()}/tickets")
    try:
        ready = requests.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"] == {"ticket_store": "unreachable"}
        assert requests.get(f"{url}/health", timeout=30).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- request size ------------------------------------------------------------------------------


def configured_environment() -> dict:
    """The environment `make run` starts the servers with: scripts/env.sh over ours, without any
    request-size setting of our own."""
    import os
    import subprocess

    from tests.e2e.servers import ROOT

    given = {k: v for k, v in os.environ.items() if k != "SANIC_REQUEST_MAX_SIZE"}
    dump = subprocess.run(["bash", "-c", "source scripts/env.sh >/dev/null && env -0"], cwd=ROOT, env=given,
                          capture_output=True, check=True).stdout.decode()
    return dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)


def test_a_body_over_the_limit_is_refused_from_its_length_before_it_is_read(tmp_path):
    process, url = start_action_server(tmp_path, f"sqlite:///{tmp_path / 'tickets.db'}", configured_environment())
    port = int(url.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 40000000\r\n\r\n" + b"{" + b" " * 65535)
            # Only the first 64 KB of the 40 MB were sent (over the action server's own 32 MB limit,
            # ACTION_REQUEST_MAX_SIZE): the answer comes without waiting for the rest.
            answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # A long conversation (Rasa sends all of it with every call) is still read: 2 MB of events.
        import requests

        events = [{"event": "user", "text": "网" * 5000, "timestamp": i} for i in range(60)]
        call = {"next_action": "action_check_ticket_status", "sender_id": "long",
                "tracker": {"sender_id": "long", "slots": {}, "latest_message": {"text": "查询"}, "events": events},
                "domain": {}}
        long = requests.post(f"{url}/webhook", json=call, timeout=60)
        assert long.status_code != 413 and len(long.request.body) > 1_500_000
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_rasa_server_reads_the_same_limit():
    import subprocess
    import sys

    from tests.e2e.servers import ROOT

    # Both ways Rasa makes its Sanic app (rasa run, rasa run --enable-api) read SANIC_* from the environment.
    code = ("from rasa.core.run import _create_app_without_api; from rasa.server import create_app; "
            "print(_create_app_without_api().config.REQUEST_MAX_SIZE, create_app().config.REQUEST_MAX_SIZE)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=configured_environment(), capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.split() == ["1000000", "1000000"], done.stderr[-2000:]
