"""channels/lock_store.py: one turn at a time per conversation across processes, nothing lost."""

from __future__ import annotations

import asyncio
from collections import deque
import shutil
import threading
import time

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.utils.endpoints import EndpointConfig

from channels.lock_store import FromEnvironment, RedisLockStore, from_environment

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")


def test_lock_store_comes_from_the_environment(redis_port):
    config = EndpointConfig(url="127.0.0.1", port=str(redis_port), db="1", password="", kind="in_memory")
    assert isinstance(from_environment(config), InMemoryLockStore)
    config.kwargs["kind"] = "redis"
    assert isinstance(from_environment(config), RedisLockStore)
    assert isinstance(FromEnvironment(config), RedisLockStore)  # how Rasa builds it from endpoints.yml
    config.kwargs["kind"] = "memcached"
    with pytest.raises(ValueError):
        from_environment(config)


def test_two_processes_take_turns_and_no_turn_is_lost(redis_port):
    """Two lock stores with their own connections and event loops (as two Rasa processes) run 40
    turns of one conversation at once: every turn gets the lock, never two at the same time."""
    conversation = "c-concurrent"
    inside = []
    overlaps = []
    done = []
    errors = []

    async def turns(store: RedisLockStore, name: str) -> None:
        async def turn(i: int) -> None:
            try:
                async with store.lock(conversation, wait_time_in_seconds=0.01):
                    inside.append(name)
                    if len(inside) > 1:
                        overlaps.append((name, i))
                    await asyncio.sleep(0.002)
                    inside.remove(name)
                    done.append((name, i))
            except Exception as error:  # noqa: BLE001 - collected for the assertion
                errors.append(repr(error))

        await asyncio.gather(*(turn(i) for i in range(20)))

    def process(name: str) -> None:
        store = RedisLockStore(host="127.0.0.1", port=redis_port, db=1)
        asyncio.run(turns(store, name))

    threads = [threading.Thread(target=process, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and overlaps == []
    assert len(done) == 40
    assert RedisLockStore(host="127.0.0.1", port=redis_port, db=1).get_lock(conversation) is None  # cleaned up


def test_each_change_is_one_round_trip_in_rasas_own_layout(redis_port):
    """The script keeps Rasa's value layout (Rasa's TicketLock reads it) and its ticket rules: numbers
    in order, expired tickets dropped, the key deleted when the last ticket is given back. Each
    change is one EVALSHA, no WATCH/MULTI round trips."""
    import redis
    from rasa.core.lock import Ticket, TicketLock

    store = RedisLockStore(host="127.0.0.1", port=redis_port, db=2)
    client = redis.Redis(port=redis_port, db=2)
    client.config_resetstat()
    conversation = "c-layout/一"

    assert [store.issue_ticket(conversation, 60) for _ in range(3)] == [0, 1, 2]
    lock = store.get_lock(conversation)
    assert lock.conversation_id == conversation and [t.number for t in lock.tickets] == [0, 1, 2]
    assert all(time.time() + 55 < t.expires <= time.time() + 60 for t in lock.tickets)
    assert lock.now_serving == 0 and lock.is_locked(1)

    store.finish_serving(conversation, 0)
    assert [t.number for t in store.get_lock(conversation).tickets] == [1, 2]
    store.cleanup(conversation, 2)
    assert [t.number for t in store.get_lock(conversation).tickets] == [1]
    store.cleanup(conversation, 1)
    assert store.get_lock(conversation) is None
    store.cleanup(conversation, 1)  # nothing left to give back: no error, no key
    assert store.get_lock(conversation) is None

    # A lock written by Rasa's own code, with an expired ticket: the script reads it and drops it.
    store.save_lock(TicketLock(conversation, deque([Ticket(7, time.time() - 1), Ticket(8, time.time() + 60)])))
    assert store.issue_ticket(conversation, 60) == 9
    assert [t.number for t in store.get_lock(conversation).tickets] == [8, 9]
    store.update_lock(conversation)
    assert [t.number for t in store.get_lock(conversation).tickets] == [8, 9]

    stats = client.info("commandstats")
    changes = 3 + 4 + 1 + 1  # issued; finished and cleaned up (once with nothing left); issued again; updated
    assert stats["cmdstat_evalsha"]["calls"] + stats.get("cmdstat_eval", {}).get("calls", 0) == changes
    assert "cmdstat_watch" not in stats and "cmdstat_multi" not in stats
