"""Rasa's ticket lock on Redis, with every change of a lock made atomic.

Rasa 3.6's RedisLockStore keeps a conversation's queue of tickets as one JSON value and changes it
by GET, modify, SET: two processes issuing tickets for one conversation at the same moment both
read the same queue and one ticket is lost, and a process that finishes deletes the key while
another has just queued. The waiting turn then finds no lock and fails with LockError, which the
REST channel turns into an empty 200 answer: a lost turn. Found by the production-profile test that
sends eight messages of one customer to two processes at once. Here each change is one Lua script
run inside Redis (atomic, and one round trip), with Rasa's ticket rules and key layout.

``FromEnvironment`` is the lock store named in endpoints.yml: LOCK_STORE_TYPE ``in_memory`` (one
process, the embedded default) or ``redis`` (several processes: make run-prod, Kubernetes).
"""

from __future__ import annotations

import time
from typing import Any, Text

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig


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


# One change of a conversation's lock, run inside Redis (atomic, one round trip). The value keeps
# Rasa's layout: {"conversation_id": ..., "tickets": [<JSON of {"number", "expires"}>, ...]}, so
# Rasa's own get_lock and TicketLock read it. Expiry uses the caller's clock (ARGV[1]), as Rasa's
# TicketLock does. Ops: issue (append a ticket, return its number), cleanup (give a ticket back,
# delete the key when none is left), finish (give a ticket back), update (drop expired tickets).
_CHANGE = """
local raw = redis.call('GET', KEYS[1])
local op, now, arg, conversation = ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]), ARGV[4]
if raw == false then
  if op ~= 'issue' then return -1 end
  raw = '{}'
end
local lock = cjson.decode(raw)
if type(lock.conversation_id) == 'string' then conversation = lock.conversation_id end
local tickets = {}
for _, text in ipairs(type(lock.tickets) == 'table' and lock.tickets or {}) do
  local ticket = type(text) == 'string' and cjson.decode(text) or text
  if not (now > ticket.expires) and not ((op == 'cleanup' or op == 'finish') and ticket.number == arg) then
    table.insert(tickets, ticket)
  end
end
local result = -1
if op == 'issue' then
  result = 0
  if #tickets > 0 then result = tickets[#tickets].number + 1 end
  table.insert(tickets, {number = result, expires = now + arg})
end
if op == 'cleanup' and #tickets == 0 then
  redis.call('DEL', KEYS[1])
  return result
end
local texts = {}
for i, ticket in ipairs(tickets) do
  texts[i] = cjson.encode(string.format('{"number": %d, "expires": %.6f}', ticket.number, ticket.expires))
end
local list = '[]'
if #texts > 0 then list = '[' .. table.concat(texts, ', ') .. ']' end
redis.call('SET', KEYS[1], '{"conversation_id": ' .. cjson.encode(conversation) .. ', "tickets": ' .. list .. '}')
return result
"""


class RedisLockStore(RasaRedisLockStore):
    """Each change of a lock is one Lua script: atomic, and one round trip instead of Rasa's GET then
    SET (racy) or WATCH, GET, MULTI/EXEC (three). The event loop waits on every one of them: Rasa
    calls the lock store synchronously, three changes and a read per turn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._script = self.red.register_script(_CHANGE)  # no round trip: loaded by its first call

    def _change(self, conversation_id: Text, op: str, argument: float = 0) -> int:
        return int(self._script(keys=[self.key_prefix + conversation_id], args=[repr(time.time()), op, repr(argument), conversation_id]))

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, "issue", float(lock_lifetime))
        except Exception as error:  # noqa: BLE001 - Rasa's contract: LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, "update")

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, "finish", ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Give the ticket back; the lock goes when nobody else holds a ticket (in one step)."""
        self._change(conversation_id, "cleanup", ticket_number)
