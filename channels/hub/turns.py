"""Customer turns taken a few at a time, in the order they came.

Why: a Rasa process is one event loop. With every turn admitted at once, the loop shares its CPU
among all of them (each await puts a turn at the back of the ready queue), so under load each turn
takes as many times longer as turns are running, and the costly ones (a filed complaint: its
ticket, its outbox event, the outage check) end far behind the rest: at 100 customers on the
benchmark's two processes p99 was 1.9 times p50 (1.5–1.8 s). Taken a few at a time in arrival
order, a turn waits for the turns before it and then runs with few others: about the same
throughput, a shorter tail (p99 1.3 times p50, 1.1–1.3 s; `bench/README.md`, "What made the
difference"). A few, not one, because a turn also waits on other processes (the action server,
the parse's thread), and meanwhile another turn can use the CPU; six per process kept the
throughput of no limit, four and three lost some.

Two things keep the queue from making anything worse:
- A customer's turns take one slot between them: the second waits for the first here, not in a
  slot (Rasa's conversation lock would have it poll every second while holding one).
- No turn waits for a slot longer than `max_wait`: if the running turns hang (an action server or
  database that stopped answering, until their own timeouts), the others are admitted anyway, as
  they were before this queue, rather than stuck behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import AsyncIterator, Deque, Dict, Tuple

from bot.limits import DEFAULT_TURN_SLOT_WAIT, DEFAULT_TURN_SLOTS
from channels import metrics


class TurnSlots:
    """At most `slots` turns at a time (0: no limit), first come first served, one per customer."""

    def __init__(self, slots: int = DEFAULT_TURN_SLOTS, max_wait: float = DEFAULT_TURN_SLOT_WAIT) -> None:
        self.slots = slots
        self.max_wait = max_wait
        self._free = slots
        self._waiters: Deque["asyncio.Future[bool]"] = deque()
        self._customers: Dict[str, Tuple[asyncio.Lock, int]] = {}
        self.running = 0
        self.overflowed = 0  # turns admitted without a slot after max_wait

    @contextlib.asynccontextmanager
    async def turn(self, customer: str) -> AsyncIterator[None]:
        """Wait for the customer's earlier turn in this process, then for a slot."""
        if self.slots <= 0:
            yield
            return
        lock, users = self._customers.get(customer) or (asyncio.Lock(), 0)
        self._customers[customer] = (lock, users + 1)
        try:
            async with lock:
                slot = await self._acquire()
                self.running += 1
                try:
                    yield
                finally:
                    self.running -= 1
                    if slot:
                        self._release()
        finally:
            lock, users = self._customers[customer]
            if users > 1:
                self._customers[customer] = (lock, users - 1)
            else:
                del self._customers[customer]

    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def _acquire(self) -> bool:
        """True with a slot; False when `max_wait` ran out first (the turn goes on without one).

        A free slot means nobody is waiting: `_release` hands a slot to the first turn still
        waiting and frees it only when there is none."""
        if self._free > 0:
            self._free -= 1
            return True
        loop = asyncio.get_running_loop()
        waiter: "asyncio.Future[bool]" = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self.max_wait, lambda: waiter.done() or waiter.set_result(False))
        try:
            slot = await waiter
        except asyncio.CancelledError:
            # Cancelled (the client went away) just after being handed a slot: pass it on.
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._release()
            raise
        finally:
            timer.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        if not slot:
            self.overflowed += 1
            metrics.turn_slot_timed_out()
        return slot

    def _release(self) -> None:
        """Hand the slot to the first turn still waiting, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._free += 1
