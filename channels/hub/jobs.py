"""The hub's background work in one Rasa process: starting and stopping it, the delivery loop
(sweeps, deadline scans, pruning and retention, and the pump's rounds, woken by the `Pulse`, the
Redis bus or at least once a second), and the push of ticket events to the backend (the outbox).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Optional

from bot.chat_sessions import ChatSessions
from bot.delivery import InboundLog
from bot.errors import IntakeError, StoreUnavailable
from bot.handoff import HandoffService
from bot.lifecycle import DeadlineWatch
from bot.outbox import OutboxDispatcher
from bot.privacy import Retention
from bot.storage.database import Database
from channels import metrics
from channels.bus import RedisBus
from channels.hub.pump import Pulse

logger = logging.getLogger("channels.hub")

POLL_SECONDS = 1.0
SWEEP_SECONDS = 30.0
PRUNE_SECONDS = 3600.0


class Jobs:
    """Start, stop and the loops of the `Hub` (channels/hub/core.py holds the services they use)."""

    db: Database
    pulse: Pulse
    bus: Optional[RedisBus]
    dispatcher: Optional[OutboxDispatcher]
    handoff: HandoffService
    deadlines: DeadlineWatch
    inbound: InboundLog
    retention: Retention
    chat_sessions: ChatSessions
    run: Callable[..., Awaitable[Any]]
    deliver_pending: Callable[[], Awaitable[int]]
    _pump: Optional[asyncio.Task]
    _dispatch: Optional[asyncio.Task]
    _migrated: bool

    async def start(self) -> None:
        """Bind to the server's loop, make sure the schema exists, start the delivery pump (idempotent)."""
        if self._pump is not None and not self._pump.done():
            return
        self.pulse.bind(asyncio.get_running_loop())
        if not self._migrated:
            try:
                await self.run(self.db.migrate)
                self._migrated = True
            except StoreUnavailable:
                logger.error("ticket store unavailable at start; the handoff gate lets messages through to the bot")
        if self.bus is not None:
            await self.bus.start()
        self._pump = asyncio.get_running_loop().create_task(self._deliver_forever())
        if self.dispatcher is not None:
            self._dispatch = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def stop(self) -> None:
        for task in (self._pump, self._dispatch):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._pump = self._dispatch = None
        if self.bus is not None:
            await self.bus.stop()

    async def _dispatch_forever(self) -> None:
        """Push ticket events to the backend; a slow or dead backend only ever delays this task."""
        assert self.dispatcher is not None
        logger.info("pushing ticket events to the backend")
        while True:
            try:
                result = await self.run(self.dispatcher.run_once)
                metrics.outbox_round(result.delivered, result.failed, result.dead)
                busy = result.delivered or result.failed or result.dead
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep pushing through database hiccups
                logger.exception("outbox round failed")
                busy = False
            await asyncio.sleep(0 if busy else POLL_SECONDS)

    async def _deliver_forever(self) -> None:
        next_sweep = next_prune = 0.0
        while True:
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                    await self.run(self.handoff.sweep)
                    await self.run(self.deadlines.scan)
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_SECONDS
                    await self.run(self.inbound.prune)
                    await self.run(self.retention.purge)
                    await self.run(self.chat_sessions.prune)
                await self.deliver_pending()
            except asyncio.CancelledError:
                raise
            except IntakeError as error:
                logger.warning("delivery round skipped: %s", error.__class__.__name__)
            except Exception:  # noqa: BLE001
                logger.exception("delivery round failed")
            await self.pulse.wait(POLL_SECONDS)

