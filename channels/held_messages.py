"""What the handoff gate of one process knows when the ticket store does not answer (review L9).

The gate asks the store whether a customer is with a human before every message. When the store is
down, a customer the gate does not know to be in a live chat gets the bot (it can at least answer
and say when it cannot file anything). A customer this process saw in a live chat a moment ago must
not: the bot would answer in the agent's place and the agent would never see the message. So the
gate remembers which customers it last saw talking to an agent (`confirm`), and while the store is
down their messages wait here, in this process's memory, to be handed to the transcript as soon as
the store answers again (`Hub._pass_on_held`).

Memory is bounded: a few messages per customer, a limited number of customers, and a message that
waited longer than `HOLD_SECONDS` is dropped (and logged). A process that stops loses what it held;
the customer was told the message is waiting, not that it arrived.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Dict, List, Optional, Tuple

from bot.tickets import Customer

LIVE_TTL = 30 * 60.0  # seconds a live chat is believed without being seen again
HOLD_SECONDS = 30 * 60.0  # how long a held message waits for the store before it is dropped
RETRY_SECONDS = 5.0  # how often held messages are offered to the store again
MAX_LIVE = 50_000
MAX_CUSTOMERS = 1_000
MAX_PER_CUSTOMER = 20

HELD_TEXT = "系统暂时繁忙，您的消息已暂存，恢复后会马上转给客服，请稍候。"
NOT_PASSED_TEXT = "抱歉，系统暂时繁忙，您的这条消息没能转给客服，请稍后再发一次。"


class HeldMessages:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._live: Dict[Customer, float] = {}
        self._held: Dict[Customer, List[Tuple[float, str]]] = {}
        self.lock = asyncio.Lock()  # one hand-over at a time, so held messages keep their order
        self.task: Optional[asyncio.Task] = None

    def confirm(self, customer: Customer, live: bool) -> None:
        """What the store just said about the customer: in a live chat with an agent, or not."""
        if not live:
            self._live.pop(customer, None)
            return
        if len(self._live) >= MAX_LIVE and customer not in self._live:
            now = self.clock()
            self._live = {c: seen for c, seen in self._live.items() if now - seen < LIVE_TTL}
            if len(self._live) >= MAX_LIVE:
                return
        self._live[customer] = self.clock()

    def in_live_chat(self, customer: Customer) -> bool:
        seen = self._live.get(customer)
        return seen is not None and self.clock() - seen < LIVE_TTL

    def hold(self, customer: Customer, text: str) -> bool:
        """Keep the message for the transcript; False when there is no room for it."""
        queue = self._held.get(customer)
        if queue is None:
            if len(self._held) >= MAX_CUSTOMERS:
                return False
            queue = self._held[customer] = []
        if len(queue) >= MAX_PER_CUSTOMER:
            return False
        queue.append((self.clock(), text))
        return True

    def holds(self, customer: Customer) -> bool:
        return bool(self._held.get(customer))

    def customers(self) -> List[Customer]:
        return list(self._held)

    def first(self, customer: Customer) -> Optional[str]:
        queue = self._held.get(customer)
        return queue[0][1] if queue else None

    def passed(self, customer: Customer) -> None:
        """The oldest held message of the customer reached the store."""
        queue = self._held.get(customer)
        if queue:
            queue.pop(0)
        if not queue:
            self._held.pop(customer, None)

    def expire(self) -> int:
        """Drop what waited too long; returns how many messages were dropped."""
        now, dropped = self.clock(), 0
        for customer in list(self._held):
            queue = self._held[customer]
            kept = [(at, text) for at, text in queue if now - at < HOLD_SECONDS]
            dropped += len(queue) - len(kept)
            if kept:
                self._held[customer] = kept
            else:
                del self._held[customer]
        return dropped
