"""Rasa's SQL tracker store without the second count of a conversation's events on every save.

Rasa 3.6 saves a tracker by counting the conversation's stored events (the same query as loading
it, as a COUNT with a sub-query for the session start) and writing the events past that count. In
a turn the tracker was loaded a moment before, under the conversation's lock (in memory, or in
Redis across processes), so the count is already known: the number of events loaded. We remember
it per conversation for the length of a turn and skip the query; when it is not known (a save
without a load in this process, a turn older than a lock's lifetime, a new conversation session
among the events, a failed save) Rasa's own count is used. Profiled with py-spy, the count was
about a seventh of a Rasa process's main-thread time under load.

Loading and saving go through SQLAlchemy Core with statements built once, not through ORM sessions:
Rasa's store builds its events query anew for every load (SQLAlchemy then derives its cache key by
walking the whole expression), turns each row into an ORM object it throws away, and saves through
the ORM's unit of work. Under load that was about a fifth of a Rasa process's CPU (py-spy, 2026-12-04)
for the same rows and the same statements. A load runs without a transaction (one SELECT, no
BEGIN/ROLLBACK round trips); a save is one multi-row INSERT in one transaction.

On PostgreSQL its transactions also commit without waiting for the write-ahead log to reach the
disk (``synchronous_commit = off``, for this store's connections only, set once per connection). The commit was four fifths
of a save in the profile of 2026-12-03, and a save holds the conversation's lock. Conversation
events are the bot's working memory: a crash of the database server itself may lose the last
fraction of a second of them (never corrupting anything); tickets, handoffs and the outbox live in
the ticket store, whose commits stay synchronous.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Text, Tuple

import rasa.shared.utils.cli
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore, ensure_schema_exists
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


def _asynchronous_commit(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO OFF")
    cursor.close()
    dbapi_connection.commit()


# Any fixed number: the key of the PostgreSQL advisory lock that serialises creating the table.
SCHEMA_LOCK_KEY = 0x7261_7361  # "rasa"


class _OneCreatorAtATime:
    """Rasa's table metadata, created by one process at a time.

    Rasa creates the events table when a store starts. Two Rasa processes starting together on an
    empty PostgreSQL database (`make run-prod`, two pods) both found no table and both created it;
    the loser failed on PostgreSQL's catalogue (a UniqueViolation), and Rasa answers that by sleeping
    five seconds and trying again: five seconds added to every cold start. Here the creation takes
    a transaction-level advisory lock first, so the second process waits for the first to commit
    and then finds the table."""

    def __init__(self, metadata: Any) -> None:
        self._metadata = metadata

    def create_all(self, engine: Any) -> None:
        if engine.dialect.name != "postgresql":
            self._metadata.create_all(engine)
            return
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            self._metadata.create_all(connection)


class _Base:
    metadata = _OneCreatorAtATime(RasaSQLTrackerStore.Base.metadata)


# A count is trusted for as long as Rasa holds a conversation's lock by default (60 s).
TRUST_SECONDS = 60.0
REMEMBERED = 10_000


class SQLTrackerStore(RasaSQLTrackerStore):
    Base = _Base  # what Rasa's __init__ creates the table from

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored: "OrderedDict[Text, Tuple[int, float]]" = OrderedDict()
        if self.engine.dialect.name == "postgresql":
            # Loads run one at a time on the event loop: a pool of their own whose connections stay in
            # autocommit (see bot.storage.database.create_engine for why not a view of self.engine).
            self._reads = sa.create_engine(self.engine.url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=2)
        else:
            self._reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        events = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp).label("session_start"))
            .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
            .subquery()
        )
        everything = sa.select(events.c.data).where(events.c.sender_id == sender)
        self._load_statements = {
            True: everything.order_by(events.c.id),
            False: everything.where(
                sa.or_(events.c.timestamp >= session_start.c.session_start, session_start.c.session_start.is_(None))
            ).order_by(events.c.id),
        }
        self._insert = events.insert()
        if self.engine.dialect.name == "postgresql":
            sa.event.listen(self.engine, "connect", _asynchronous_commit)
            self.engine.dispose()  # connections opened while Rasa created the table lack the setting

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Any]:
        """Rasa's, except that only a missing PostgreSQL schema ends the process. Rasa took every
        ValueError raised while a session was open for that and exited: a REST sender id with a lone
        surrogate (its UnicodeEncodeError is a ValueError) stopped the whole server with one request."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as error:
                rasa.shared.utils.cli.print_error_and_exit(
                    f"Requested PostgreSQL schema '{error}' was not found in the database. Exiting application."
                )
            yield session
        finally:
            session.close()

    def _remember(self, sender_id: Text, count: int) -> None:
        self._stored[sender_id] = (count, time.monotonic())
        self._stored.move_to_end(sender_id)
        while len(self._stored) > REMEMBERED:
            self._stored.popitem(last=False)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's load: the same query (the current session's events, or all), read as plain rows."""
        self._stored.pop(sender_id, None)
        with self._reads.connect() as connection:
            data = connection.execute(
                self._load_statements[fetch_events_from_all_sessions], {"sender_id": sender_id}
            ).scalars().all()
        tracker = None
        if self.domain and data:
            tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(item) for item in data], self.domain.slots)
        if not fetch_events_from_all_sessions and self.domain is not None:
            # Exactly the rows of the current session, one event each (no event-history limit).
            self._remember(sender_id, len(tracker.events) if tracker is not None else 0)
        return tracker

    def _new_events(self, tracker: DialogueStateTracker) -> List[Any]:
        """The tracker's events not stored yet: past the count remembered from this turn's load, or
        past Rasa's own count of the stored ones when that is not known."""
        known = self._stored.pop(tracker.sender_id, None)
        if (
            known is None
            or time.monotonic() - known[1] > TRUST_SECONDS
            or getattr(tracker.events, "maxlen", None) is not None
            or known[0] > len(tracker.events)
        ):
            with self.session_scope() as session:
                return list(super()._additional_events(session, tracker))
        new = list(itertools.islice(tracker.events, known[0], len(tracker.events)))
        if not any(isinstance(event, SessionStarted) for event in new):
            # After this save the current session holds all of the tracker's events.
            self._remember(tracker.sender_id, len(tracker.events))
        return new

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (stream to the event broker, then store the events not stored yet), with the
        rows written as one INSERT."""
        await self.stream_events(tracker)
        try:
            rows = [self._row(tracker.sender_id, event) for event in self._new_events(tracker)]
            if rows:
                with self.engine.begin() as connection:
                    connection.execute(self._insert, rows)
        except BaseException:
            self._stored.pop(tracker.sender_id, None)
            raise

    @staticmethod
    def _row(sender_id: Text, event: Any) -> Dict[Text, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
