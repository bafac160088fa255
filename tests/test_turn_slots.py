"""The turn queue (channels/hub/turns.py): a few turns at a time, in arrival order, one slot per
customer, never stuck behind turns that hang, and no slot lost to a timeout or a cancellation."""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from typing import List

from hypothesis import given, settings
from hypothesis import strategies as st

from channels import metrics
from channels.hub.turns import TurnSlots


def run(coroutine):
    return asyncio.run(coroutine)


async def _hold(slots: TurnSlots, customer: str, log: List[str], release: asyncio.Event) -> None:
    async with slots.turn(customer):
        log.append(f"start {customer}")
        await release.wait()
        log.append(f"end {customer}")


def test_turns_beyond_the_slots_wait_and_start_in_arrival_order():
    async def scenario():
        slots = TurnSlots(slots=2, max_wait=30)
        log: List[str] = []
        gates = {name: asyncio.Event() for name in "abcde"}
        tasks = []
        for name in "abcde":
            tasks.append(asyncio.create_task(_hold(slots, name, log, gates[name])))
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        assert log == ["start a", "start b"] and slots.running == 2 and slots.waiting() == 3
        gates["b"].set()
        await asyncio.sleep(0.01)
        assert log[-1] == "start c" and slots.running == 2
        for name in "acde":
            gates[name].set()
        await asyncio.gather(*tasks)
        starts = [entry for entry in log if entry.startswith("start")]
        assert starts == ["start a", "start b", "start c", "start d", "start e"]
        assert slots._free == 2 and slots.waiting() == 0 and not slots._customers and slots.overflowed == 0

    run(scenario())


def test_a_customers_second_turn_waits_for_the_first_without_taking_a_slot():
    async def scenario():
        slots = TurnSlots(slots=2, max_wait=30)
        log: List[str] = []
        first, second, other = asyncio.Event(), asyncio.Event(), asyncio.Event()
        a1 = asyncio.create_task(_hold(slots, "x", log, first))
        await asyncio.sleep(0)
        a2 = asyncio.create_task(_hold(slots, "x", log, second))
        await asyncio.sleep(0)
        b = asyncio.create_task(_hold(slots, "y", log, other))
        await asyncio.sleep(0.01)
        # y runs at once: x's second turn waits on x's first, not in the second slot.
        assert log == ["start x", "start y"]
        first.set()
        await asyncio.sleep(0.01)
        assert log == ["start x", "start y", "end x", "start x"]
        second.set()
        other.set()
        await asyncio.gather(a1, a2, b)
        assert slots._free == 2 and not slots._customers

    run(scenario())


def test_turns_are_not_stuck_behind_turns_that_hang():
    async def scenario():
        slots = TurnSlots(slots=1, max_wait=0.05)
        timeouts = metrics.SLOT_TIMEOUTS._value.get()
        log: List[str] = []
        hung = asyncio.Event()
        holder = asyncio.create_task(_hold(slots, "hung", log, hung))
        await asyncio.sleep(0)
        done = asyncio.Event()
        done.set()
        await asyncio.wait_for(_hold(slots, "next", log, done), timeout=2)  # runs after max_wait
        assert log == ["start hung", "start next", "end next"] and slots.overflowed == 1
        assert metrics.SLOT_TIMEOUTS._value.get() == timeouts + 1  # /metrics shows the queue ran over
        hung.set()
        await holder
        assert slots._free == 1 and slots.waiting() == 0  # the overflowing turn took no slot, gave none back

    run(scenario())


def test_a_cancelled_turn_loses_no_slot():
    async def scenario():
        slots = TurnSlots(slots=1, max_wait=30)
        log: List[str] = []
        first = asyncio.Event()
        holder = asyncio.create_task(_hold(slots, "a", log, first))
        await asyncio.sleep(0)
        waiting = asyncio.create_task(_hold(slots, "b", log, asyncio.Event()))
        await asyncio.sleep(0.01)
        waiting.cancel()  # the client went away while queued
        await asyncio.gather(waiting, return_exceptions=True)
        handed = asyncio.create_task(_hold(slots, "c", log, asyncio.Event()))
        await asyncio.sleep(0.01)
        first.set()  # the slot goes to c ...
        await asyncio.sleep(0)
        handed.cancel()  # ... which is cancelled before it resumes: the slot must come back
        await asyncio.gather(holder, handed, return_exceptions=True)
        assert "start b" not in log and slots._free == 1 and slots.waiting() == 0 and not slots._customers
        last = asyncio.Event()
        last.set()
        await asyncio.wait_for(_hold(slots, "d", log, last), timeout=1)
        assert log[-2:] == ["start d", "end d"] and slots.overflowed == 0

    run(scenario())


def test_zero_slots_admit_every_turn_at_once():
    async def scenario():
        slots = TurnSlots(slots=0)
        log: List[str] = []
        release = asyncio.Event()
        tasks = [asyncio.create_task(_hold(slots, str(i), log, release)) for i in range(50)]
        await asyncio.sleep(0.01)
        assert len(log) == 50
        release.set()
        await asyncio.gather(*tasks)

    run(scenario())


@settings(max_examples=60, deadline=None)
@given(
    slot_count=st.integers(1, 4),
    turns=st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=25),
)
def test_any_schedule_keeps_the_bound_the_order_and_every_slot(slot_count, turns):
    """Turns of random customers arriving and lasting a random number of loop steps: never more
    than `slot_count` running, each customer's turns one after another in arrival order, slots
    granted in arrival order when all turns are of distinct customers, and every slot free at the end.

    The order is that of the grants, not of the turns' first steps: a waiting turn handed a slot
    resumes a loop step later, and a turn arriving in that step may take another slot freed
    meanwhile and run first; both hold a slot, and neither was overtaken while waiting."""

    async def scenario():
        slots = TurnSlots(slots=slot_count, max_wait=60)
        started: List[int] = []
        granted: List[int] = []
        current: "contextvars.ContextVar[int]" = contextvars.ContextVar("turn")
        owners = {}

        class GrantLog(deque):
            """The waiters' queue, noting whose turn each slot handed on goes to, when it is handed."""

            def append(self, waiter):
                owners[id(waiter)] = current.get()
                super().append(waiter)

            def popleft(self):
                waiter = super().popleft()
                if not waiter.done():
                    granted.append(owners[id(waiter)])
                return waiter

        slots._waiters = GrantLog()
        running_per_customer = {}
        peak = 0

        async def turn(index: int, customer: str, steps: int) -> None:
            nonlocal peak
            current.set(index)
            async with slots.turn(customer):
                if index not in granted:
                    granted.append(index)  # a free slot, taken without waiting
                assert running_per_customer.get(customer, 0) == 0
                running_per_customer[customer] = 1
                started.append(index)
                peak = max(peak, slots.running)
                for _ in range(steps):
                    assert slots._free == 0 or slots.waiting() == 0  # a free slot never leaves anyone waiting
                    await asyncio.sleep(0)
                running_per_customer[customer] = 0

        tasks = []
        for index, (customer, delay, steps) in enumerate(turns):
            tasks.append(asyncio.create_task(turn(index, customer, steps)))
            for _ in range(delay):
                await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert peak <= slot_count and slots.overflowed == 0
        assert sorted(started) == list(range(len(turns)))
        for customer in set(c for c, _, _ in turns):
            mine = [i for i, (c, _, _) in enumerate(turns) if c == customer]
            assert [i for i in started if i in mine] == mine
        if len({c for c, _, _ in turns}) == len(turns):
            assert granted == list(range(len(turns)))
        assert slots._free == slot_count and slots.waiting() == 0 and not slots._customers

    run(scenario())
