"""Rasa's SQL tracker store without the second count of a conversation's events on every save.

Rasa 3.6 saves a tracker by counting the conversation's stored events (the same query as loading
it, as a COUNT with a sub-query for the session start) and writing the events past that count. In
a turn the tracker was loaded a moment before, under the conversation's lock (in memory, or in
Redis across processes), so the count is already known: the number of events loaded. We remember
it per conversation for the length of a turn and skip the query; when it is not known (a save
without a load in this process, a turn older than a lock's lifetime, a new conversation session
among the events, a failed save) Rasa's own count is used. Profiled with py-spy, the count was
about a seventh of a Rasa process's main-thread time under load.

On PostgreSQL its transactions also commit without waiting for the write-ahead log to reach the
disk (``synchronous_commit = off``, for this store's transactions only). The commit was four fifths
of a save in the profile of 2026-12-03, and a save holds the conversation's lock. Conversation
events are the bot's working memory: a crash of the database server itself may lose the last
fraction of a second of them (never corrupting anything); tickets, handoffs and the outbox live in
the ticket store, whose commits stay synchronous.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import OrderedDict
from typing import Any, Iterator, Optional, Text, Tuple

import rasa.shared.utils.cli
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore, ensure_schema_exists
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

def _asynchronous_commit(connection: Any) -> None:
    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


# A count is trusted for as long as Rasa holds a conversation's lock by default (60 s).
TRUST_SECONDS = 60.0
REMEMBERED = 10_000


class SQLTrackerStore(RasaSQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored: "OrderedDict[Text, Tuple[int, float]]" = OrderedDict()
        if self.engine.dialect.name == "postgresql":
            sa.event.listen(self.engine, "begin", _asynchronous_commit)

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
        self._stored.pop(sender_id, None)
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if not fetch_events_from_all_sessions and self.domain is not None:
            # Exactly the rows of the current session, one event each (no event-history limit).
            self._remember(sender_id, len(tracker.events) if tracker is not None else 0)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        known = self._stored.pop(tracker.sender_id, None)
        if (
            known is None
            or time.monotonic() - known[1] > TRUST_SECONDS
            or getattr(tracker.events, "maxlen", None) is not None
            or known[0] > len(tracker.events)
        ):
            return super()._additional_events(session, tracker)
        new = list(itertools.islice(tracker.events, known[0], len(tracker.events)))
        if not any(isinstance(event, SessionStarted) for event in new):
            # After this save the current session holds all of the tracker's events.
            self._remember(tracker.sender_id, len(tracker.events))
        return iter(new)

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except BaseException:
            self._stored.pop(tracker.sender_id, None)
            raise
