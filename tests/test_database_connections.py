"""bot/storage/database.py: pooled connections, tested only after sitting idle, replaced when dead."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.errors import StoreUnavailable
from bot.storage import database
from bot.storage.database import Database


def _kill_server_side(url: str) -> int:
    """What a database restart does to pooled connections: their server processes are gone."""
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        killed = connection.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar()
    admin.dispose()
    return killed


def _counting_pings(db: Database, monkeypatch) -> list:
    pings = []
    original = db.engine.dialect.do_ping

    def do_ping(dbapi_connection):
        pings.append(1)
        return original(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", do_ping)
    return pings


def _one(db: Database) -> int:
    with db.transaction() as session:
        return session.execute(sa.text("SELECT 1")).scalar()


def test_an_idle_connection_that_died_is_replaced_before_use(postgres, monkeypatch):
    db = Database(postgres.new_database())
    pings = _counting_pings(db, monkeypatch)
    assert _one(db) == 1
    assert _kill_server_side(db.url) >= 1
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # it counts as idle: tested first
    assert _one(db) == 1  # nobody saw the dead connection
    assert pings == [1]
    db.dispose()


def test_a_busy_connection_is_not_pinged_and_a_dead_one_fails_once(postgres, monkeypatch):
    db = Database(postgres.new_database())
    pings = _counting_pings(db, monkeypatch)
    assert _one(db) == 1 and _one(db) == 1
    assert pings == []  # no ping round trip for a connection in use a moment ago
    _kill_server_side(db.url)
    with pytest.raises(StoreUnavailable):  # it died within the window: one operation finds out ...
        _one(db)
    assert _one(db) == 1  # ... and the pool was renewed for the next one
    db.dispose()


def test_single_reads_answer_on_both_databases_and_leave_no_transaction(db):
    """`read_row` (the gate's per-message check) reads one row; on PostgreSQL it runs outside a
    transaction (no BEGIN/ROLLBACK round trips), so its connection is never idle in one."""
    row = db.read_row(sa.select(sa.literal(1).label("one"), sa.literal("两").label("two")), {})
    assert tuple(row) == (1, "两")
    if db.engine.dialect.name == "postgresql":
        with db._single_reads.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
            assert connection.connection.dbapi_connection.autocommit is True
        with db.engine.connect() as connection:  # transactions keep their own pool, never in autocommit
            assert connection.connection.dbapi_connection.autocommit is False
        assert db._single_reads is not db.engine and db._single_reads.pool is not db.engine.pool
    with pytest.raises(StoreUnavailable):
        db.read_row(sa.text("SELECT * FROM no_such_table"), {})


def test_insert_if_absent_inserts_once_even_when_racing(db):
    """The first-contact record: of several processes (threads here) recording the same customer at
    once, exactly one is told it was first; the row is written once."""
    import threading
    from datetime import datetime, timezone

    from bot.storage.models import PrivacyNoticeRow

    table = PrivacyNoticeRow.__table__
    values = {"channel": "rest", "channel_user_id": "racer", "shown_at": datetime(2026, 12, 4, tzinfo=timezone.utc)}
    barrier, answers = threading.Barrier(6), []

    def record():
        barrier.wait()
        answers.append(db.insert_if_absent(table, values))

    threads = [threading.Thread(target=record) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == [False] * 5 + [True]
    assert db.insert_if_absent(table, {**values, "channel_user_id": "another"}) is True
    with db.reading() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 2
