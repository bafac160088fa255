"""The transactional outbox: capture, order, retries, dead events and what is kept, with a recording
sender (no HTTP). Real HTTP backends that misbehave: tests/test_outbox_backends.py."""

from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa

from bot.outbox import OutboxAdmin, OutboxDispatcher, Settings, sign, verify
from bot.storage.models import OutboxEventRow
from bot.tickets import Customer, Status, TicketService
from tests.outbox_support import SECRET, RecordingBackend, file


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
