"""The event loop keeps serving while a long message is parsed (channels/nlu_offload.py)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest


@pytest.fixture(scope="module")
def agent(trained_model):
    import channels  # noqa: F401 - installs the channel patches, the offload among them
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


def long_message() -> str:
    rng = random.Random(7)
    words = ["宽带", "断网", "话费", "扣钱", "套餐", "流量", "营业厅", "投诉", "我的", "为什么", "这个月", "又"]
    return "".join(rng.choice(words) for _ in range(2500))[:5000]


def test_a_long_parse_does_not_stop_the_loop(agent):
    """Without the offload the loop is blocked for the whole parse (~120 ms for 5,000 characters);
    with it, other coroutines keep running every few milliseconds."""
    from channels import nlu_offload

    assert nlu_offload._installed

    async def scenario():
        gaps = []
        done = asyncio.Event()

        async def ticker():
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.002)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        parsed = await asyncio.gather(*(agent.parse_message(long_message()) for _ in range(3)))
        spent = time.perf_counter() - started
        done.set()
        await tick
        return parsed, spent, max(gaps)

    parsed, spent, longest_gap = asyncio.run(scenario())
    assert all(p["intent"]["name"] for p in parsed)
    assert spent > 0.05, "the parse was too quick to show anything"
    assert longest_gap < spent / 3, (longest_gap, spent)
