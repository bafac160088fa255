"""Delivery of agents' messages: how a channel reaches its customers (`Courier`), the wake-up
`Pulse`, and one round of the pump that hands pending messages to the couriers of this process.

Agents' messages wait in the database until a channel delivers them. Each channel registers a
`Courier` for its customers; the courier that holds the customer claims the message in the database
for a while (a lease), so one process sends it; it is marked delivered once the channel accepted
it, and offered again if that process died first (at-least-once). The loop that runs the rounds is
in jobs.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Protocol, TypeVar

from bot.handoff import HandoffService, Message

logger = logging.getLogger("channels.hub")

T = TypeVar("T")

CHUNK = 500


class Courier(Protocol):
    """How one channel reaches its customers from this process."""

    channel: str

    def holds(self, user_id: str) -> bool:
        """Whether this process can push to the customer right now."""

    def connected(self) -> Optional[Iterable[str]]:
        """The customers this process can push to right now; None: every customer of the channel
        (an API any process can call, like Telegram's)."""

    async def deliver(self, user_id: str, message: Message) -> bool:
        """Send. False: not reachable right now, the message stays pending. Raises Undeliverable
        when the channel gave up (after its own retries): the message is marked failed for the agent."""


class Undeliverable(Exception):
    """A channel finally could not deliver a message (blocked bot, deleted chat, API down for long)."""


class Pulse:
    """Wakes waiters on this event loop; `fire` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._event: Optional[asyncio.Event] = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def fire(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        event, self._event = self._event, asyncio.Event()
        if event is not None:
            event.set()

    async def wait(self, timeout: float) -> None:
        if self._event is None:
            await asyncio.sleep(timeout)
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


def format_message(message: Message) -> str:
    """Plain text for channels that cannot show who is speaking."""
    if message.sender == "agent":
        return f"客服{message.agent_name or message.agent}：{message.text}"
    return message.text



class Pump:
    """The delivery round of the `Hub` (channels/hub/core.py holds the services it uses)."""

    couriers: Dict[str, Courier]
    handoff: HandoffService
    run: Callable[..., Awaitable[Any]]

    async def deliver_pending(self) -> int:
        """One round: deliver what this process can; returns how many were sent."""
        pending: List[Message] = []
        for channel, courier in list(self.couriers.items()):
            reachable = courier.connected()
            if reachable is None:
                pending += await self.run(self.handoff.pending_deliveries, channel)
                continue
            users = sorted(set(reachable))
            for start in range(0, len(users), CHUNK):
                pending += await self.run(
                    self.handoff.pending_deliveries, channel, None, 200, users[start : start + CHUNK]
                )
        pending.sort(key=lambda m: m.id)
        sent = 0
        for message in pending:
            courier = self.couriers.get(message.customer.channel) if message.customer else None
            if courier is None or not courier.holds(message.customer.user_id):
                continue
            if not await self.run(self.handoff.claim_delivery, message.id):
                continue  # another process got it
            try:
                ok = await courier.deliver(message.customer.user_id, message)
            except Undeliverable as error:
                await self.run(self.handoff.delivery_failed, message.id, str(error))
                continue
            except Exception as error:  # noqa: BLE001 - a channel failure must not stop the pump
                logger.exception("delivery through %s failed", courier.channel)
                await self.run(self.handoff.delivery_failed, message.id, error.__class__.__name__)
                continue
            if ok:
                await self.run(self.handoff.delivered, message.id)  # after the channel accepted it
                sent += 1
            else:
                await self.run(self.handoff.unclaim_delivery, message.id)
        return sent

