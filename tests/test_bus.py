"""channels/bus.py: the wake-up bus between Rasa processes, against a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from channels import bus

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")


@pytest.fixture
def redis_url(redis_port):
    return f"redis://127.0.0.1:{redis_port}/0"


def test_a_quiet_bus_stays_subscribed_and_wakes_the_other_process(redis_url, monkeypatch, caplog):
    """Longer quiet than the client's socket timeout (shortened here to 0.3 s): the subscription
    must neither fail nor drop, and a note published afterwards wakes the other side at once."""
    import redis.asyncio as redis

    real = redis.Redis.from_url

    def short_timeouts(url, **options):
        return real(url, **{**options, "socket_timeout": 0.3})

    monkeypatch.setattr(redis.Redis, "from_url", short_timeouts)
    monkeypatch.setattr(bus, "WAIT_SECONDS", 0.1)

    async def scenario():
        woken = []
        a = bus.RedisBus(redis_url, lambda: woken.append("a"))
        b = bus.RedisBus(redis_url, lambda: woken.append("b"))
        await a.start()
        await b.start()
        try:
            deadline = time.monotonic() + 5
            while not (a.connected and b.connected):
                assert time.monotonic() < deadline, "the bus did not subscribe"
                await asyncio.sleep(0.02)
            woken.clear()  # each side catches up once when it subscribes
            await asyncio.sleep(1.2)  # four socket timeouts of silence
            assert a.connected and b.connected
            assert woken == []
            a.publish()
            deadline = time.monotonic() + 0.5  # well within the bus's retry pause (2 s)
            while "b" not in woken:
                assert time.monotonic() < deadline, "the note did not arrive"
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            assert woken == ["b"]  # not the publisher itself
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(scenario())
    assert "wake-up bus" not in caplog.text
