"""Shared fixtures: a real SQLite ticket store per test, a clean environment, the trained model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bot.storage.database import Database  # noqa: E402
from bot.tickets import Customer, TicketService  # noqa: E402

_SCRUBBED = ("DATABASE_URL", "TRACKER_STORE_URL", "ACTION_ENDPOINT_URL")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """No test sees the developer's databases; each gets its own SQLite file."""
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tickets.db'}")


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (installed by scripts/system-deps.sh)."""
    from tests.postgres import TemporaryPostgres

    server = TemporaryPostgres()
    if not server.available:
        pytest.skip("PostgreSQL server binaries not installed (scripts/system-deps.sh installs them)")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_port():
    """A real redis-server on a free localhost port (no persistence), for the module's tests."""
    import shutil
    import subprocess
    import time

    import redis

    from tests.e2e.servers import free_port

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield port
    server.terminate()
    server.wait()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Database:
    """The ticket store, migrated, on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tickets.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def service(db) -> TicketService:
    return TicketService(db)


@pytest.fixture
def alice() -> Customer:
    return Customer("rest", "alice")


@pytest.fixture
def bob() -> Customer:
    return Customer("rest", "bob")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current config and data, trained once and cached by its hash."""
    from train import train

    return train()


class Clock:
    """A settable clock for services (10:00 Beijing time); every reading moves it on by a microsecond,
    so events written one after another keep their order."""

    def __init__(self) -> None:
        import threading
        from datetime import datetime, timezone

        self.now = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def __call__(self):
        from datetime import timedelta

        with self._lock:
            self.now += timedelta(microseconds=1)
            return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()
