"""The event loop keeps serving while a long message is parsed (channels/nlu_offload.py)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    from channels.startup import prepare_process

    prepare_process()  # the channel patches, the offload among them, as the server's start installs them

    return Agent.load(str(trained_model))


def long_message() -> str:
    rng = random.Random(7)
    words = ["宽带", "断网", "话费", "扣钱", "套餐", "流量", "营业厅", "投诉", "我的", "为什么", "这个月", "又"]
    return "".join(rng.choice(words) for _ in range(2500))[:5000]


def test_a_long_parse_does_not_stop_the_loop(agent):
    """Without the offload the loop stands still for a whole parse (~45 ms for 5,000 characters
    here): a coroutine waking every 2 ms gets no turn until it ends. With it, that coroutine keeps
    running during the parse. Counted in turns, not milliseconds, so the speed of the machine does
    not decide the outcome."""
    from channels import nlu_offload

    assert nlu_offload._installed
    text = long_message()

    async def scenario():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                await asyncio.sleep(0.002)
                ticks += 1

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        during = []
        for _ in range(3):  # one at a time, as one customer sends them
            before, started = ticks, time.perf_counter()
            parsed = await agent.parse_message(text)
            during.append((ticks - before, time.perf_counter() - started))
            assert parsed["intent"]["name"]
        done.set()
        await tick
        return during

    during = asyncio.run(scenario())
    assert all(spent > 0.02 for _, spent in during), during  # long enough to show anything
    assert min(turns for turns, _ in during) >= 3, during
