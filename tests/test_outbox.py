"""The transactional outbox: capture, order, retries, dead events, and a backend that misbehaves."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import requests
import sqlalchemy as sa

from bot.categories import Category
from bot.outbox import OutboxAdmin, OutboxDispatcher, Settings, sign, verify
from bot.storage.models import OutboxEventRow
from bot.tickets import Customer, Status, TicketService
from tests.e2e.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "backend-secret-for-tests"


class RecordingBackend:
    """A sender that records what it was given and answers as told (no HTTP)."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, dict, Dict[str, str]]] = []
        self.failing = False
        self.failure = "HTTP 503"

    def __call__(self, url, body, headers, timeout):
        self.calls.append((url, json.loads(body), headers))
        return (False, self.failure) if self.failing else (True, "")


def file(tickets: TicketService, user: str, text: str = "宽带断网三天了"):
    return tickets.open_complaint(Customer("rest", user), Category.NETWORK, text, "13800001111")[0]


def test_signatures_and_replay_window():
    body = b'{"kind":"created"}'
    now = int(time.time())
    good = sign(body, SECRET, now)
    assert verify(body, SECRET, str(now), good)
    assert not verify(body + b" ", SECRET, str(now), good)
    assert not verify(body, "other-secret", str(now), good)
    assert not verify(body, SECRET, str(now - 3600), sign(body, SECRET, now - 3600))  # a replay
    assert not verify(body, SECRET, "not-a-time", good)


def test_every_ticket_event_is_captured_and_delivered_in_order_with_a_valid_signature(db):
    tickets = TicketService(db)
    backend = RecordingBackend()
    dispatcher = OutboxDispatcher(db, Settings("http://127.0.0.1:9/events", SECRET), sender=backend)
    ticket = file(tickets, "alice")
    tickets.add_customer_note(Customer("rest", "alice"), "补充一下：光猫一直闪红灯")
    tickets.assign(ticket.number, "wang", "wang")
    tickets.transition(ticket.number, Status.RESOLVED, "wang", "更换光猫")
    assert dispatcher.drain().delivered == 7
    kinds = [call[1]["kind"] for call in backend.calls]
    assert kinds == ["created", "dispatched", "customer_addition", "assigned", "status_changed", "resolved", "survey_sent"]
    sequences = [call[1]["sequence"] for call in backend.calls]
    assert sequences == sorted(sequences)
    for _, document, headers in backend.calls:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        assert verify(body, SECRET, headers["X-Intake-Timestamp"], headers["X-Intake-Signature"])
        assert headers["X-Intake-Event-Id"] == document["event_id"] and document["schema"] == "intake.ticket-event/1"
        assert document["ticket"]["number"] == ticket.number
    assert backend.calls[-1][1]["ticket"]["status"] == "resolved"
    assert backend.calls[-1][1]["ticket"]["responsible"] == "wang"


def test_a_failing_event_holds_back_the_later_events_of_its_ticket_only(db):
    tickets = TicketService(db)
    backend = RecordingBackend()
    dispatcher = OutboxDispatcher(db, Settings("http://127.0.0.1:9/events", SECRET, backoff_base=60), sender=backend)
    first = file(tickets, "alice")
    backend.failing = True
    dispatcher.run_once()  # alice's "created" fails and waits a minute
    backend.failing = False
    second = file(tickets, "bob")
    dispatcher.drain()
    delivered = [(c[1]["ticket"]["number"], c[1]["kind"]) for c in backend.calls if c[1]["ticket"]["number"]]
    assert (second.number, "dispatched") in delivered
    assert [k for n, k in delivered if n == first.number] == ["created"]  # only the failed attempt
    with db.transaction() as session:
        waiting = session.execute(
            sa.select(OutboxEventRow.kind).where(
                OutboxEventRow.ticket_number == first.number, OutboxEventRow.delivered_at.is_(None)
            ).order_by(OutboxEventRow.id)
        ).scalars().all()
    assert waiting == ["created", "dispatched"]


def test_after_the_last_attempt_an_event_is_parked_dead_until_a_supervisor_retries(db):
    tickets = TicketService(db)
    backend = RecordingBackend()
    backend.failing = True
    dispatcher = OutboxDispatcher(db, Settings("http://127.0.0.1:9/events", SECRET, max_attempts=3, backoff_base=0, backoff_cap=0), sender=backend)
    ticket = file(tickets, "alice")
    for _ in range(5):  # an outage (503) is retried for as long as it lasts: never dead
        dispatcher.run_once()
    admin = OutboxAdmin(db)
    assert admin.dead() == [] and admin.backlog()["pending"] == 2
    backend.failure = "HTTP 422"  # the backend rejects the event itself
    dispatcher.drain()
    [dead] = admin.dead()
    assert dead.kind == "created" and dead.attempts >= 3 and dead.last_error == "HTTP 422"
    assert admin.backlog() == {"pending": 1, "dead": 1}  # "dispatched" waits behind it
    backend.failing = False
    assert admin.retry(dead.id) and not admin.retry(dead.id)
    assert dispatcher.drain().delivered == 2
    assert admin.backlog() == {"pending": 0, "dead": 0}
    assert ticket.number in {c[1]["ticket"]["number"] for c in backend.calls}


def test_two_dispatchers_never_take_the_same_event(db):
    tickets = TicketService(db)
    backend = RecordingBackend()
    for n in range(30):
        file(tickets, f"c{n}")
    dispatchers = [OutboxDispatcher(db, Settings("http://127.0.0.1:9/events", SECRET, batch=5), sender=backend) for _ in range(3)]
    threads = [threading.Thread(target=d.drain) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [c[2]["X-Intake-Event-Id"] for c in backend.calls]
    assert len(keys) == len(set(keys)) == 60


class Backend:
    """scripts/backend_demo.py as a real process: it can be made to fail, killed and restarted."""

    def __init__(self, workdir: Path, secret: str = SECRET) -> None:
        self.secret = secret
        self.port = free_port()
        self.store = workdir / "received.jsonl"
        self.mode_file = workdir / "mode"
        self.mode("ok")
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def mode(self, mode: str) -> None:
        self.mode_file.write_text(mode)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "backend_demo.py"), "--port", str(self.port), "--secret", self.secret,
             "--store", str(self.store), "--mode-file", str(self.mode_file), "--quiet"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/stats", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("backend did not start")

    def stats(self) -> dict:
        return requests.get(f"http://127.0.0.1:{self.port}/stats", timeout=5).json()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def received(self) -> List[dict]:
        if not self.store.exists():
            return []
        return [json.loads(line) for line in self.store.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_backend_outages_lose_nothing_and_duplicate_nothing(db, tmp_path):
    backend = Backend(tmp_path)
    backend.start()
    settings = Settings(backend.url, SECRET, timeout=0.5, max_attempts=1000, backoff_base=0.05, backoff_cap=0.5, batch=20)
    stop = threading.Event()
    rounds = defaultdict(int)

    def dispatch(name: str) -> None:  # two dispatchers: two server processes
        dispatcher = OutboxDispatcher(db, settings, worker=name)
        while not stop.is_set():
            result = dispatcher.run_once()
            rounds["failed"] += result.failed
            if not (result.delivered or result.failed):
                time.sleep(0.02)

    workers = [threading.Thread(target=dispatch, args=(f"d{n}",)) for n in range(2)]
    for w in workers:
        w.start()

    tickets = TicketService(db)
    slowest = [0.0]

    def customers() -> None:  # 500 tickets filed and changed while the backend comes and goes
        for n in range(500):
            started = time.monotonic()
            customer = Customer("rest", f"storm-{n}")
            ticket = tickets.open_complaint(customer, Category.NETWORK, f"小区断网了，第{n}位客户", "13800001111")[0]
            tickets.add_customer_note(customer, "补充一下：路由器重启也没用")
            if n % 2:
                tickets.transition(ticket.number, Status.RESOLVED, "agent", "线路修复")
            slowest[0] = max(slowest[0], time.monotonic() - started)

    filing = threading.Thread(target=customers)
    filing.start()
    time.sleep(1.0)
    backend.mode("500")
    time.sleep(1.5)
    backend.mode("slow")  # stores, then answers after the sender gave up: a retry it must drop
    time.sleep(1.5)
    dropped_before_restart = backend.stats()["duplicates"]
    backend.kill()  # refused connections
    backend.mode("ok")
    time.sleep(1.5)
    backend.start()  # the same store: it remembers what it already has
    filing.join()
    recovered = time.monotonic()  # backend back and every ticket filed: what is left to drain
    admin = OutboxAdmin(db)
    left = admin.backlog()["pending"]
    deadline = time.monotonic() + 120
    while admin.backlog()["pending"] and time.monotonic() < deadline:
        time.sleep(0.1)
    drained = time.monotonic() - recovered
    stop.set()
    for w in workers:
        w.join()

    with db.transaction() as session:
        expected = session.execute(sa.select(OutboxEventRow.idempotency_key)).scalars().all()
        attempts = session.execute(sa.select(sa.func.sum(OutboxEventRow.attempts))).scalar_one()
    received = backend.received()
    stats = backend.stats()
    keys = [e["event_id"] for e in received]
    assert len(expected) == 500 * 3 + 250 * 2 and admin.backlog() == {"pending": 0, "dead": 0}
    assert sorted(keys) == sorted(expected)  # every event, exactly once
    per_ticket: Dict[str, List[int]] = defaultdict(list)
    for event in received:
        per_ticket[event["ticket"]["number"]].append(event["sequence"])
    assert all(seq == sorted(seq) for seq in per_ticket.values())  # in order per ticket
    assert stats["bad_signatures"] == 0 and stats["out_of_order"] == 0
    assert slowest[0] < 2.0  # filing never waited for the backend
    print(
        f"\noutbox ({db.engine.dialect.name}): {len(expected)} events, {attempts} attempts "
        f"({attempts - len(expected)} retries, {rounds['failed']} failed), "
        f"{dropped_before_restart + stats['duplicates']} duplicates delivered and dropped by the receiver, "
        f"{left} pending at recovery drained in {drained:.1f} s, slowest filing {slowest[0] * 1000:.0f} ms"
    )
    backend.kill()


def test_a_redirect_is_not_a_delivery(tmp_path):
    import http.server

    seen = []

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append(("POST", self.path))
            self.send_response(302)
            self.send_header("Location", "/landing")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            seen.append(("GET", self.path))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from bot.outbox import http_post

        ok, why = http_post(f"http://127.0.0.1:{server.server_port}/events", b"{}", {}, 5)
    finally:
        server.shutdown()
    assert not ok and why == "HTTP 302" and seen == [("POST", "/events")]


def test_a_backend_that_answers_a_byte_at_a_time_is_cut_off_at_the_deadline():
    import socket

    from bot.outbox import http_post

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            # Each byte comes well within the per-read timeout: only an overall deadline ends this.
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\nok":
                if stop.wait(0.2):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        ok, why = http_post(f"http://127.0.0.1:{listener.getsockname()[1]}/events", b"{}", {}, 1.0)
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - started < 3
    assert not ok and why.startswith("deadline")


def test_only_http_backends_with_an_unpublished_secret_are_accepted(caplog):
    import logging

    import pytest

    for url in ("file:///etc/passwd", "ftp://example.com/events", "gopher://x", "https:///events", "backend:8099"):
        with pytest.raises(ValueError, match="BACKEND_URL"):
            Settings(url, SECRET)
    with pytest.raises(ValueError, match="README"):
        Settings("https://example.com/events", "dev-secret-change-me-please")
    with pytest.raises(ValueError, match="16"):
        Settings("https://example.com/events", "short")
    with caplog.at_level(logging.WARNING, logger="bot.urls"):
        Settings("https://example.com/events", SECRET)
        Settings("http://127.0.0.1:8099/events", SECRET)  # the demo receiver on this machine
        assert not caplog.records
        Settings("http://example.com/events", SECRET)  # allowed on a trusted network, but said
    assert "unencrypted" in caplog.text


def test_the_rasa_server_does_not_start_with_a_file_url_as_backend(monkeypatch):
    import pytest

    from channels.hub import Hub

    monkeypatch.setenv("BACKEND_URL", "file:///var/lib/intake/events")
    monkeypatch.setenv("BACKEND_SECRET", SECRET)
    with pytest.raises(ValueError, match="http:// or https://"):
        Hub.from_env()


def test_the_outbox_keeps_only_what_a_dispatcher_may_still_need(db):
    from datetime import datetime, timedelta, timezone

    from bot.privacy import Retention

    def later(days):
        return lambda: datetime.now(timezone.utc) + timedelta(days=days)

    def pending(number):
        with db.transaction() as session:
            return session.execute(sa.select(sa.func.count()).select_from(OutboxEventRow).where(
                OutboxEventRow.ticket_number == number, OutboxEventRow.delivered_at.is_(None))).scalar_one()

    tickets = TicketService(db)
    # Push off: nothing is ever offered; a week later the events are gone, the tickets and their history stay.
    quiet = file(tickets, "quiet")
    captured = pending(quiet.number)
    assert captured and OutboxAdmin(db, later(1)).prune() == {"delivered": 0, "never_pushed": 0}
    assert Retention(db, None, days=180, clock=later(8)).purge()["outbox_events"] == captured  # the hourly purge
    assert pending(quiet.number) == 0 and OutboxAdmin(db).backlog() == {"pending": 0, "dead": 0}
    assert tickets.by_number(quiet.number).events

    # Push on: delivered events go after a week; events a down backend keeps failing stay, however old.
    backend = RecordingBackend()
    sent = file(tickets, "sent")
    assert OutboxDispatcher(db, Settings("http://127.0.0.1:9/events", SECRET), sender=backend).drain().delivered
    backend.failing = True
    failing = file(tickets, "failing")
    waiting = pending(failing.number)
    OutboxDispatcher(db, Settings("http://127.0.0.1:9/events", SECRET), sender=backend, clock=later(8)).run_once()
    assert OutboxAdmin(db, later(8)).prune() == {"delivered": len(backend.calls) - 1, "never_pushed": 0}
    assert pending(failing.number) == waiting and pending(sent.number) == 0

    # A dead event and the events behind it wait for the supervisor's retry, even with push off since.
    parked = file(tickets, "parked")
    tickets.add_customer_note(Customer("rest", "parked"), "补充：路由器灯一直闪红灯", parked.number)
    stuck = pending(parked.number)
    with db.transaction() as session:
        first = session.execute(sa.select(sa.func.min(OutboxEventRow.id)).where(
            OutboxEventRow.ticket_number == parked.number)).scalar_one()
        session.get(OutboxEventRow, first).dead_at = datetime.now(timezone.utc)
    OutboxAdmin(db, later(30)).prune()
    assert stuck > 1 and pending(parked.number) == stuck
