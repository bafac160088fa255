"""The outbox against real HTTP backends: outages of the reference receiver, redirects, slow answers,
and which backend URLs are accepted at all. Test doubles: tests/outbox_support.py."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Dict, List

import sqlalchemy as sa

from bot.categories import Category
from bot.outbox import OutboxAdmin, OutboxDispatcher, Settings
from bot.storage.models import OutboxEventRow
from bot.tickets import Customer, Status, TicketService
from tests.outbox_support import SECRET, Backend


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
