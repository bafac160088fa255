"""Web chat conversation ids are credentials (bot/chat_sessions.py, review finding M8)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.chat_sessions import ChatSessions, backend_customer_id
from bot.outbox import ticket_snapshot
from bot.storage.models import TicketRow
from bot.tickets import Customer


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sessions(db, clock):
    return ChatSessions(db, clock=clock, idle=timedelta(days=30))


def test_only_ids_the_server_issued_are_resumed(sessions):
    issued = sessions.issue()
    assert len(issued) == 32 and sessions.resume(issued)
    assert not sessions.resume(uuid.uuid4().hex)  # well-formed, never issued: a guess or a forgery
    assert not sessions.resume(None)
    chosen, resumed = sessions.start(uuid.uuid4().hex)
    assert not resumed and sessions.resume(chosen)


def test_an_ended_conversation_cannot_be_resumed(sessions):
    issued = sessions.issue()
    sessions.end(issued)
    assert not sessions.resume(issued)
    fresh, resumed = sessions.start(issued)
    assert fresh != issued and not resumed


def test_an_idle_conversation_expires_but_use_keeps_it_alive(sessions, clock):
    kept, idle = sessions.issue(), sessions.issue()
    for _ in range(5):  # used every 20 days: 100 days in all, never 30 days idle
        clock.now += timedelta(days=20)
        assert sessions.resume(kept)
    assert not sessions.resume(idle)


def test_dead_ids_are_pruned(sessions, clock, db):
    ended, _idle, live = sessions.issue(), sessions.issue(), sessions.issue()
    sessions.end(ended)
    clock.now += timedelta(days=31)
    assert sessions.resume(live) is False  # idle too, by now
    live2 = sessions.issue()
    assert sessions.prune() == 3
    assert sessions.resume(live2)


def test_backends_get_a_stable_pseudonym_of_a_web_chat_id_not_the_id():
    session_id = uuid.uuid4().hex
    ref = backend_customer_id("webchat", session_id)
    assert ref.startswith("w:") and session_id not in ref and len(ref) == 26
    assert ref == backend_customer_id("webchat", session_id) != backend_customer_id("webchat", uuid.uuid4().hex)
    assert backend_customer_id("telegram", "123456789") == "123456789"


def test_the_pushed_snapshot_carries_the_pseudonym(db):
    from bot.categories import Category
    from bot.tickets import TicketService

    session_id = uuid.uuid4().hex
    ticket, _ = TicketService(db).open_complaint(Customer("webchat", session_id), Category.NETWORK, "宽带断网两天了", "13812345678")
    with db.transaction() as s:
        row = s.query(TicketRow).filter_by(number=ticket.number).one()
        snapshot = ticket_snapshot(row)
    assert snapshot["customer_id"] == backend_customer_id("webchat", session_id)
    assert session_id not in str(snapshot)
