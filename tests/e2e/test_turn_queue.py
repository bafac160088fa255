"""The turn queue in a real Rasa server (channels/hub/turns.py): customers arriving together are
taken a few at a time (the queue is seen in /metrics while they wait), and every one gets an answer."""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.e2e

CUSTOMERS = 24  # four times the default TURN_SLOTS


def _waiting(stack) -> int:
    body = requests.get(f"{stack.url}/metrics", timeout=10).text
    found = re.search(r"^intake_turns_waiting (\d+)\.0$", body, re.M)
    assert found, body[-2000:]
    return int(found.group(1))


def test_customers_arriving_together_queue_for_slots_and_all_get_their_answer(stack):
    seen = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(_waiting(stack))
            time.sleep(0.005)

    run = uuid.uuid4().hex[:8]
    texts = ["你好", "怎么查话费余额", "我想办个便宜点的套餐", "宽带怎么报修"]
    for attempt in range(3):  # a fast machine may answer a wave before a scrape lands in it
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(CUSTOMERS) as pool:
                replies = list(pool.map(
                    lambda i, wave=attempt: stack.texts(stack.say(f"queue-{run}-{wave}-{i}", texts[i % len(texts)])),
                    range(CUSTOMERS),
                ))
        finally:
            stop.set()
            watcher.join()
            stop.clear()
        assert all(reply.strip() for reply in replies), replies  # nobody is dropped by the queue
        if max(seen) > 0:
            break
    assert max(seen) > 0, "no turn ever waited for a slot: the queue is not in the message path"
    assert _waiting(stack) == 0  # and it drains
