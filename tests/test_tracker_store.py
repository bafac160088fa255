"""channels/tracker_store.py stores exactly what Rasa's SQL tracker store stores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from channels.tracker_store import SQLTrackerStore

DOMAIN = Domain.from_dict({"intents": ["greet"], "slots": {"a": {"type": "any", "mappings": []}}})


def rows(url: str, sender: str):
    """Each stored row as (event, name or text, type_name, intent_name, action_name)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT data, type_name, intent_name, action_name FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    engine.dispose()
    return [
        (e["event"], e.get("name") or e.get("text"), type_name, intent, action)
        for e, type_name, intent, action in ((json.loads(data), *rest) for data, *rest in found)
    ]


def loaded_alike(url: str, sender: str) -> None:
    """Our store loads what Rasa's own store loads from the same rows: the current session, and all."""
    ours, rasas = SQLTrackerStore(domain=DOMAIN, host=url), RasaStore(domain=DOMAIN, host=url)

    async def both():
        return (
            await ours.retrieve(sender), await rasas.retrieve(sender),
            await ours.retrieve_full_tracker(sender), await rasas.retrieve_full_tracker(sender),
            await ours.retrieve("nobody"),
        )

    session, rasas_session, everything, rasas_everything, nobody = asyncio.run(both())
    assert list(session.events) == list(rasas_session.events)
    assert list(everything.events) == list(rasas_everything.events)
    assert len(everything.events) > len(session.events) > 1
    assert session.get_slot("a") == rasas_session.get_slot("a")
    assert nobody is None
    ours.engine.dispose(), rasas.engine.dispose()


def conversation(store, sender: str) -> None:
    async def run() -> None:
        tracker = await store.get_or_create_tracker(sender)  # load (nothing) and create
        for turn in range(3):
            tracker = await store.retrieve(sender)
            tracker.update(UserUttered(f"你好{turn}", {"name": "greet", "confidence": 1.0}))
            tracker.update(SlotSet("a", turn))
            await store.save(tracker)  # a save in the middle of a turn
            tracker.update(BotUttered(f"您好{turn}"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
        tracker = await store.retrieve(sender)  # a new session starts within the tracker
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        tracker.update(UserUttered("新会话", {"name": "greet", "confidence": 1.0}))
        await store.save(tracker)
        tracker = await store.retrieve(sender)
        tracker.update(BotUttered("最后"))
        await store.save(tracker)

    asyncio.run(run())


def test_same_rows_as_rasas_store(tmp_path: Path):
    ours_url, rasas_url = f"sqlite:///{tmp_path / 'ours.db'}", f"sqlite:///{tmp_path / 'rasa.db'}"
    conversation(SQLTrackerStore(domain=DOMAIN, host=ours_url), "c1")
    conversation(RasaStore(domain=DOMAIN, host=rasas_url), "c1")
    assert rows(ours_url, "c1") == rows(rasas_url, "c1")
    assert len(rows(ours_url, "c1")) > 15
    assert ("user", "你好0", "user", "greet", None) in rows(ours_url, "c1")
    loaded_alike(ours_url, "c1")


def test_another_process_writing_in_between_is_not_overwritten(tmp_path: Path):
    """Process A created the conversation, process B took a turn; A's next turn starts with a load,
    so it writes only its own new event after B's, nothing twice and nothing lost."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = SQLTrackerStore(domain=DOMAIN, host=url), SQLTrackerStore(domain=DOMAIN, host=url)

    async def run() -> None:
        await a.get_or_create_tracker("c2")
        tracker_b = await b.retrieve("c2")
        tracker_b.update(UserUttered("来自B", {"name": "greet", "confidence": 1.0}))
        await b.save(tracker_b)
        tracker_a = await a.retrieve("c2")  # every turn starts with a load: A sees B's event
        tracker_a.update(BotUttered("来自A"))
        await a.save(tracker_a)

    asyncio.run(run())
    assert [row[:2] for row in rows(url, "c2")] == [("action", "action_listen"), ("user", "来自B"), ("bot", "来自A")]


def test_on_postgresql_the_same_rows_and_commits_that_do_not_wait_for_the_disk(postgres):
    """The save path on PostgreSQL: the same rows as Rasa's own store, and each of the store's
    transactions runs with synchronous_commit off (the ticket store's stay synchronous)."""
    ours_url, rasas_url = postgres.new_database(), postgres.new_database()
    admin = sa.create_engine(ours_url)
    with admin.begin() as connection:  # the test server runs without fsync: make "on" the default here
        name = connection.execute(sa.text("SELECT current_database()")).scalar()
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = on'))
    admin.dispose()
    store = SQLTrackerStore(domain=DOMAIN, host=ours_url)
    conversation(store, "c3")
    conversation(RasaStore(domain=DOMAIN, host=rasas_url), "c3")
    assert rows(ours_url, "c3") == rows(rasas_url, "c3")
    loaded_alike(ours_url, "c3")
    with store.session_scope() as session:
        assert session.execute(sa.text("SHOW synchronous_commit")).scalar() == "off"
    other = sa.create_engine(ours_url)
    with other.connect() as connection:
        assert connection.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"
    other.dispose()
    # Loads read through a pool of their own, in autocommit for good (no switching per checkout).
    assert store._reads.pool is not store.engine.pool
    with store._reads.connect() as connection:
        assert connection.connection.dbapi_connection.autocommit is True
    with store.engine.connect() as connection:
        assert connection.connection.dbapi_connection.autocommit is False


def test_stores_starting_together_on_an_empty_postgresql_database_do_not_collide(postgres, caplog):
    """Two Rasa processes starting at once both created the events table; the loser failed on the
    catalogue and Rasa slept five seconds before trying again. Now the second waits for the first."""
    import threading
    import time

    url = postgres.new_database()
    barrier = threading.Barrier(4)
    stores, errors = [], []

    def start():
        try:
            barrier.wait()
            stores.append(SQLTrackerStore(domain=DOMAIN, host=url))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(stores) == 4
    assert time.monotonic() - started < 4.5  # no five-second retry
    assert "UniqueViolation" not in caplog.text and "duplicate key" not in caplog.text
    conversation(stores[0], "c4")
    assert len(rows(url, "c4")) > 15
    for store in stores:
        store.engine.dispose()
