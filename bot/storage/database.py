"""The database handle: engine from a URL, schema migrations, and transactions that fail cleanly.

`DATABASE_URL` selects the server (e.g. ``postgresql://user:pw@host/db``); without it an SQLite
file under ``data/`` is used. Nothing connects at import time.
"""

from __future__ import annotations

import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.errors import Conflict, StoreUnavailable
from bot.storage.capture import capture

logger = logging.getLogger(__name__)
# Alembic 1.19 announces each of its plugins at INFO on every migration run.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

DEFAULT_URL = "sqlite:///data/tickets.db"
MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key held while migrating ("intake" as a number).
MIGRATION_LOCK = 0x696E74616B65


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event below decide how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _pragma(connection, statement: str) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value):
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_storable(item) for item in value)
    return value


def _storable_text(connection, cursor, statement, parameters, context, executemany):
    # A lone surrogate (a client's JSON "\ud800") cannot be encoded for either database, nor can
    # PostgreSQL keep a NUL character: the write raised UnicodeEncodeError or ValueError, which is no
    # StoreUnavailable, so the turn or request failed (a 500 from the action server filing such a
    # complaint). They are stored as U+FFFD instead, on both databases alike. Identifiers never carry
    # one: web chat ids are hex, Telegram ids numbers, and a REST sender must be refused.
    return statement, _storable(parameters)


# A pooled server connection unused for this long is tested before it is handed out (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 10.0
READ_ONLY = "intake_read_only"  # execution option of the engine that `Database.reading` uses


def _sqlite_begin(connection) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle, not for every checkout.

    SQLAlchemy's pool_pre_ping tests every connection it hands out with a round trip: under load that
    was two fifths of the channel gate's time per message in the py-spy profile of 2026-12-03. A
    connection checked in less than PING_AFTER_IDLE_SECONDS ago was working a moment before; one
    that sat longer (across a database restart, a failover, a firewall's idle timeout) is tested,
    and a dead one is replaced before anyone sees it (DisconnectionError makes the pool retry with
    a new connection). A connection that dies within the window fails the one operation that finds
    it, which surfaces as StoreUnavailable, and SQLAlchemy then invalidates the whole pool.
    """

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in")
        if last is None or time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping must not leave a transaction open
        except Exception as error:  # noqa: BLE001 - any failure means this connection is unusable
            raise sa.exc.DisconnectionError(str(error.__class__.__name__)) from error

    sa.event.listen(engine, "checkin", checked_in)
    sa.event.listen(engine, "checkout", checkout)


def create_engine(url: str, autocommit: bool = False) -> Engine:
    """The engine of a store. `autocommit` (PostgreSQL only): a small second pool whose connections
    are in autocommit mode for good, for the single statements that need no transaction (see
    `Database.read_row`). An `execution_options(isolation_level="AUTOCOMMIT")` view of the main
    engine switches each connection into autocommit at checkout and back at checkin: measured on
    this machine, that doubled the time of a one-row read (290 -> 540 us, 210 -> 350 us of CPU)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A file database keeps its connections (SQLAlchemy 1.4 would open one per transaction,
        # pragmas and all: a third of the gate's time per message); in-memory ones keep their default.
        pooled = {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 24} if parsed.database not in (None, "", ":memory:") else {}
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, future=True, **pooled)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # BEGIN IMMEDIATE takes the write lock up front: a transaction that read and then writes can
        # never fail with "database is locked" because another writer committed in between; it waits.
        # A read (`Database.reading`) begins deferred instead: it takes no lock, and in WAL mode it
        # neither waits for writers nor makes them wait.
        sa.event.listen(engine, "begin", _sqlite_begin)
    else:
        # At most 20 connections per process in all (deploy/DEPLOYMENT.md, "Sizing").
        pool = {"isolation_level": "AUTOCOMMIT", "pool_size": 4, "max_overflow": 4} if autocommit else {"pool_size": 6, "max_overflow": 6}
        engine = sa.create_engine(url, future=True, **pool)
        _ping_when_idle(engine)
    sa.event.listen(engine, "before_cursor_execute", _storable_text, retval=True)
    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False, future=True)
        self._reads = sessionmaker(bind=self.engine.execution_options(**{READ_ONLY: True}), future=True)
        # `read_row` and `insert_if_absent`: on PostgreSQL a single statement needs no transaction
        # (no BEGIN, no ROLLBACK round trip); SQLite's deferred read transaction is local and takes
        # no lock.
        self._autocommit: Optional[Engine] = None
        if self.engine.dialect.name == "postgresql":
            self._autocommit = create_engine(url, autocommit=True)
            self._single_reads = self._single_writes = self._autocommit
        else:
            self._single_reads = self.engine.execution_options(**{READ_ONLY: True})
            self._single_writes = self.engine
        # Every ticket event also becomes an outbox event for the backend, in the same transaction.
        capture(self._sessions)

    @classmethod
    def from_env(cls) -> "Database":
        return cls(os.environ.get("DATABASE_URL") or DEFAULT_URL)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to call on every start)."""
        # Alembic is imported here, not at the top: only the process that migrates needs it, and
        # every other one (action server, CLI, tests) would pay its import time on start.
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.connect() as connection:
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:
                    # A migration that rebuilds a table (SQLite's batch mode) must not cascade-delete
                    # the rows that refer to it; references are checked afterwards instead. The pragma
                    # only works outside a transaction, so it goes to the driver connection directly.
                    _pragma(connection, "PRAGMA foreign_keys=OFF")
                try:
                    with connection.begin():
                        if connection.dialect.name == "postgresql":
                            # Several processes start at once: one migrates, the others wait and find
                            # the schema at head (held until this transaction ends).
                            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                        config.attributes["connection"] = connection
                        command.upgrade(config, "head")
                        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                            raise RuntimeError("migration left rows with broken references")
                finally:
                    if sqlite:
                        _pragma(connection, "PRAGMA foreign_keys=ON")
        except sa.exc.DBAPIError as error:
            raise StoreUnavailable(f"migration failed: {error.__class__.__name__}") from error

    def ping(self) -> None:
        """Raises StoreUnavailable unless the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except sa.exc.DBAPIError as error:
            raise StoreUnavailable(f"database unreachable: {error.__class__.__name__}") from error

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error.

        Database failures surface as StoreUnavailable and uniqueness violations as Conflict,
        so nothing is ever half-written.
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except sa.exc.IntegrityError as error:
            session.rollback()
            raise Conflict(str(error.__class__.__name__)) from error
        except sa.exc.DBAPIError as error:
            session.rollback()
            logger.error("ticket store error: %s", error.__class__.__name__)
            raise StoreUnavailable(str(error.__class__.__name__)) from error
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only, always rolled back: on SQLite it takes no write lock, which
        matters on the per-message path where most checks find nothing to change. Database
        failures surface as StoreUnavailable, as in `transaction`."""
        session = self._reads()
        try:
            yield session
        except sa.exc.DBAPIError as error:
            logger.error("ticket store error: %s", error.__class__.__name__)
            raise StoreUnavailable(str(error.__class__.__name__)) from error
        finally:
            session.rollback()
            session.close()

    def read_row(self, statement: Any, parameters: Any) -> Any:
        """The one row of one read-only statement, without an ORM session: for the per-message
        checks that run on every customer message (the gate), where a session's set-up and the
        ROLLBACK round trip at its end cost more than the query. Database failures surface as
        StoreUnavailable, as in `transaction`."""
        try:
            with self._single_reads.connect() as connection:
                return connection.execute(statement, parameters).one()
        except sa.exc.DBAPIError as error:
            logger.error("ticket store error: %s", error.__class__.__name__)
            raise StoreUnavailable(str(error.__class__.__name__)) from error

    def insert_if_absent(self, table: sa.Table, values: Dict[str, Any]) -> bool:
        """Insert one row unless one with its key exists; True when it was inserted. One statement
        (INSERT ... ON CONFLICT DO NOTHING) committed on its own: on PostgreSQL one round trip
        instead of BEGIN, SELECT, INSERT and COMMIT. Failures surface as StoreUnavailable."""
        dialect = self.engine.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(**values)
        try:
            if dialect == "postgresql":
                with self._single_writes.connect() as connection:
                    return connection.execute(insert.on_conflict_do_nothing()).rowcount == 1
            with self.engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE (see _sqlite_begin)
                return connection.execute(insert.on_conflict_do_nothing()).rowcount == 1
        except sa.exc.DBAPIError as error:
            logger.error("ticket store error: %s", error.__class__.__name__)
            raise StoreUnavailable(str(error.__class__.__name__)) from error

    def dispose(self) -> None:
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()
