"""Rasa's ticket lock on Redis, with every change of a lock made atomic.

Rasa 3.6's RedisLockStore keeps a conversation's queue of tickets as one JSON value and changes it
by GET, modify, SET: two processes issuing tickets for one conversation at the same moment both
read the same queue and one ticket is lost, and a process that finishes deletes the key while
another has just queued. The waiting turn then finds no lock and fails with LockError, which the
REST channel turns into an empty 200 answer: a lost turn. Found by the production-profile test that
sends eight messages of one customer to two processes at once. Here each change runs under Redis
WATCH/MULTI (optimistic, retried on conflict), with Rasa's own ticket logic and key layout.

``FromEnvironment`` is the lock store named in endpoints.yml: LOCK_STORE_TYPE ``in_memory`` (one
process, the embedded default) or ``redis`` (several processes: make run-prod, Kubernetes).
"""

from __future__ import annotations

import json
from typing import Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")


class FromEnvironment(LockStore):
    """Rasa loads custom lock stores by class; constructing this one returns the configured store."""

    def __new__(cls, endpoint_config: EndpointConfig) -> LockStore:  # type: ignore[misc]
        return from_environment(endpoint_config)


def from_environment(endpoint_config: EndpointConfig) -> LockStore:
    settings = dict(endpoint_config.kwargs)
    kind = str(settings.pop("kind", "") or "in_memory").strip().lower()
    if kind == "in_memory":
        return InMemoryLockStore()
    if kind == "redis":
        return RedisLockStore(host=endpoint_config.url or "localhost", **settings)
    raise ValueError(f"LOCK_STORE_TYPE must be 'in_memory' or 'redis', not {kind!r}")


class RedisLockStore(RasaRedisLockStore):
    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]) -> T:
        """Apply `change` to the stored lock atomically; a None lock deletes the key."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new, result = change(lock)
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another process changed the lock in between: read it again

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, change)
        except Exception as error:  # noqa: BLE001 - Rasa's contract: LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Give the ticket back; the lock goes when nobody else holds a ticket (in one step)."""

        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, change)


